"""How the replay pages write a length of time."""


def clock(seconds: float | None) -> str:
    """A position or a length as players show it: 4:05, or 1:02:03 past an hour."""
    whole = max(0, int(seconds or 0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
