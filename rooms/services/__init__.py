"""Every write to rooms, one module per concern: lifecycle, presence and the stage."""
