"""Every write of moderation, one module per concern: the log, reports, restrictions on
accounts, and removals from rooms that start outside them."""
