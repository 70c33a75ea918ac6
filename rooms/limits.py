"""Per-connection rate limits for the room socket."""

import time


class TokenBucket:
    """Allows `rate` actions a second on average and bursts of up to `burst`."""

    def __init__(self, *, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class FloodGuard:
    """Three budgets — signalling (ICE bursts), the chat, and everything else — and one warning.

    Going over the budget once earns an `error` frame; going over again within
    `warning_seconds` of that warning means the connection is closed (4429).
    """

    SIGNAL, CHAT, ACTION = "signal", "chat", "action"

    def __init__(self, *, warning_seconds: float = 10.0, clock=time.monotonic):
        self.clock = clock
        self.warning_seconds = warning_seconds
        self.buckets = {
            self.SIGNAL: TokenBucket(rate=50, burst=200, clock=clock),
            # Typing is slower than clicking: a burst of a few quick lines, then one a second.
            self.CHAT: TokenBucket(rate=1, burst=8, clock=clock),
            self.ACTION: TokenBucket(rate=5, burst=20, clock=clock),
        }
        self.warned_at: float | None = None

    def check(self, kind: str) -> str:
        """'ok', 'warn' or 'close'."""
        if self.buckets[kind].take():
            return "ok"
        now = self.clock()
        if self.warned_at is not None and now - self.warned_at < self.warning_seconds:
            return "close"
        self.warned_at = now
        return "warn"
