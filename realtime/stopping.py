"""How a web process stops, so that a deploy or a restart costs nobody their place.

On SIGTERM (or SIGINT) the process
1. stops listening: nginx sends new connections to the processes that live;
2. closes every socket with CLOSE_RESTARTING: the page reconnects at once, through nginx, to
   a live process, where a room member takes over the place they had (realtime.consumers);
3. lets what is in flight finish: requests, the sockets' last work, what the apps keep per
   process and write out when told (`stopping`), and the database thread's queue;
4. stops the event loop, and the process exits.

All of it within WEB_STOP_SECONDS: past that the process logs what was cut short, with every
thread's stack, and exits anyway. A second signal stops it at once.

The order matters: a database call in a worker thread sends its news through the event loop
once its transaction commits (realtime.delivery); a loop stopped under it left that thread, and
with it the process, waiting for good.
"""

import asyncio
import faulthandler
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.dispatch import Signal

from realtime.consumers import GuardedConsumer, close_all_restarting

logger = logging.getLogger(__name__)

# Sent once the sockets are closed, before the loop stops, and awaited (`asend`): work a
# process keeps to itself for a moment (coalesced writes) is written out now.
stopping = Signal()

POLL_SECONDS = 0.05
# Kept for the apps' last writes and the database thread's queue at the end.
LAST_WRITES_SECONDS = 1.0


def _nothing() -> None:
    """Run in the database thread: it returns once everything queued before it is done."""


def _sockets_open() -> str:
    """The sockets whose consumer has not finished, by path: `/ws/rooms/<id>/ (2)`."""
    paths: dict[str, int] = {}
    for consumer in list(GuardedConsumer.open_here):
        path = consumer.scope.get("path", "?")
        paths[path] = paths.get(path, 0) + 1
    return ", ".join(f"{path} ({count})" for path, count in sorted(paths.items()))


class Stop:
    """One process's stop, from the first signal.

    `in_flight` counts what is still running (requests, sockets); `halt` stops the event
    loop; `stop_listening` closes the listening ports."""

    def __init__(
        self,
        *,
        seconds: float,
        stop_listening: Callable[[], None],
        in_flight: Callable[[], int],
        halt: Callable[[], None],
    ) -> None:
        self.seconds = seconds
        self.stop_listening, self.in_flight, self.halt = stop_listening, in_flight, halt
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.closed = 0
        self.stage = "closing the sockets"
        # A thread, not the loop: it must fire when the loop (or the interpreter's exit,
        # joining a stuck thread) is what hangs.
        self.watchdog = threading.Timer(seconds, self.cut_short)
        self.watchdog.daemon = True
        self.watchdog.start()

    async def run(self) -> None:
        running = self.in_flight()
        logger.warning(
            "Stopping: %d connection(s) in flight; sockets close with a restart, "
            "within WEB_STOP_SECONDS (%s s).",
            running,
            self.seconds,
        )
        self.stop_listening()
        last_writes = self.deadline - LAST_WRITES_SECONDS
        while True:
            # Sockets that opened on a connection already accepted are closed too.
            self.closed += await close_all_restarting()
            if not self.in_flight() or time.monotonic() >= last_writes:
                break
            await asyncio.sleep(POLL_SECONDS)
        self.stage = "the apps' last writes"
        await stopping.asend(sender=None)
        self.stage = "the database thread's queue"
        await database_sync_to_async(_nothing)()
        left = self.in_flight()
        elapsed = time.monotonic() - self.started
        if left:
            logger.warning(
                "Stopped in %.1f s: %d socket(s) closed for a restart; %d connection(s) "
                "still in flight were cut short.",
                elapsed,
                self.closed,
                left,
            )
        else:
            logger.warning(
                "Stopped in %.1f s: %d socket(s) closed for a restart, nothing cut short.",
                elapsed,
                self.closed,
            )
        self.stage = "the event loop's end"
        self.halt()

    def cut_short(self) -> None:
        """WEB_STOP_SECONDS passed: says what was still running, and exits."""
        try:
            left = self.in_flight()
        except Exception:  # read from this thread while the loop changes it
            left = -1
        logger.error(
            "Stopping took longer than WEB_STOP_SECONDS (%s s), at %s, with %s connection(s) "
            "in flight (sockets still open: %s): exiting now. Every thread's stack follows.",
            self.seconds,
            self.stage,
            "an unknown number of" if left < 0 else left,
            _sockets_open() or "none",
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(1)
