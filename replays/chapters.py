"""A replay's chapters from the stage's history: who was heard when, as offsets into the
replay. Every server process that watched the room wrote the spans it saw, so one person's
spans repeat and overlap; a pause shorter than TURN_GAP_SECONDS does not end a turn."""

from collections.abc import Callable, Iterable
from datetime import datetime

TURN_GAP_SECONDS = 3.0


def chapters_from_spans(
    spans: Iterable[tuple[int, datetime, datetime]],
    *,
    offset_of: Callable[[datetime], float | None],
    trim_start: float,
    duration: float,
) -> list[dict]:
    """`spans` are (user_id, start, end) in wall-clock time; `offset_of` maps a moment to
    the untrimmed timeline (None: nothing was recorded then). Returns the turns in order
    of their start: `{"start", "end", "user_id"}`, in seconds of the trimmed replay."""
    turns: list[list] = []
    last_of: dict[int, list] = {}
    for user_id, start, end in sorted(spans, key=lambda span: span[1]):
        begin, finish = offset_of(start), offset_of(end)
        if begin is None and finish is None:
            continue
        # A span that crosses the start or end of a part keeps its length on the side that
        # was recorded; clamping below keeps it inside the replay.
        length = (end - start).total_seconds()
        begin = finish - length if begin is None else begin
        finish = begin + length if finish is None else finish
        begin = max(0.0, begin - trim_start)
        finish = min(duration, finish - trim_start)
        if finish <= 0 or begin >= duration:
            continue
        turn = last_of.get(user_id)
        if turn is not None and begin - turn[1] <= TURN_GAP_SECONDS:
            turn[1] = max(turn[1], finish)
            continue
        turn = [begin, max(begin, finish), user_id]
        turns.append(turn)
        last_of[user_id] = turn
    return [
        {"start": round(begin, 2), "end": round(end, 2), "user_id": user_id}
        for begin, end, user_id in sorted(turns, key=lambda turn: turn[0])
    ]
