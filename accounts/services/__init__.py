"""Every write to accounts, one module per concern: profiles, moderation and reports."""
