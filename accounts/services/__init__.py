"""Every write to accounts, one module per concern: profiles and API tokens."""
