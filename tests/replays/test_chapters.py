"""Chapters from the stage's history: spans merged into turns, placed on the replay."""

from datetime import UTC, datetime, timedelta

from replays.chapters import chapters_from_spans

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def offset_from_start(moment: datetime) -> float | None:
    """One part that recorded from START for 60 s."""
    seconds = (moment - START).total_seconds()
    return seconds if 0 <= seconds <= 60 else None


def chapters(spans, *, trim_start=0.0, duration=60.0):
    return chapters_from_spans(
        spans, offset_of=offset_from_start, trim_start=trim_start, duration=duration
    )


def test_repeated_and_overlapping_spans_of_one_person_make_one_turn():
    # Two server processes saw the same talk, a few milliseconds apart.
    spans = [(1, at(2), at(6)), (1, at(2.01), at(6.02)), (1, at(7), at(9))]
    assert chapters(spans) == [{"start": 2.0, "end": 9.0, "user_id": 1}]


def test_turns_follow_each_other_in_order_of_their_start():
    spans = [(2, at(20), at(30)), (1, at(1), at(10)), (1, at(40), at(45))]
    assert chapters(spans) == [
        {"start": 1.0, "end": 10.0, "user_id": 1},
        {"start": 20.0, "end": 30.0, "user_id": 2},
        {"start": 40.0, "end": 45.0, "user_id": 1},
    ]


def test_a_trimmed_start_moves_every_turn_and_drops_what_it_cut():
    spans = [(1, at(1), at(4)), (2, at(8), at(12))]
    assert chapters(spans, trim_start=5, duration=55) == [{"start": 3.0, "end": 7.0, "user_id": 2}]


def test_what_was_said_while_nothing_recorded_is_left_out_and_edges_are_clamped():
    spans = [(1, at(-20), at(-10)), (2, at(-2), at(3)), (3, at(58), at(70))]
    assert chapters(spans) == [
        {"start": 0.0, "end": 3.0, "user_id": 2},
        {"start": 58.0, "end": 60.0, "user_id": 3},
    ]
