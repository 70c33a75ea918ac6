"""The one gate every socket frame passes (realtime.gate)."""

import json

import pytest

from core.errors import ApplicationError
from realtime.gate import MAX_DEPTH, SAFE_INTEGER, FrameTooBigError, frame_parse


def parse(value, max_bytes=1000):
    text = value if isinstance(value, str) else json.dumps(value)
    return frame_parse(text, None, max_bytes=max_bytes)


def nested(depth: int) -> dict:
    frame = {"type": "x"}
    for _ in range(depth - 1):
        frame = {"type": "x", "inner": frame}
    return frame


def test_frames_within_every_limit_pass_as_they_are():
    frame = {"type": "signal", "to": SAFE_INTEGER, "n": -SAFE_INTEGER, "f": 1.5, "s": "caf\u00e9"}
    assert parse(frame) == frame
    assert parse(nested(MAX_DEPTH)) == nested(MAX_DEPTH)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"type": "x", "n": SAFE_INTEGER + 1}),
        json.dumps({"type": "x", "n": -SAFE_INTEGER - 1}),
        json.dumps(nested(MAX_DEPTH + 1)),
        '{"type": "x", "n": NaN}',
        '{"type": "x", "n": -Infinity}',
        '{"type": "x", "n": 1e400}',
        '{"type": "x", "s": "\\udc00"}',
        '{"type": "x", "\\ud800": 1}',
        '{"type": "x", "s": "a\\u0000b"}',
        "[" * 5000 + "]" * 5000,
        '{"type": 1}',
        "null",
        "{",
    ],
)
def test_frames_that_a_later_step_could_not_carry_are_malformed(text):
    with pytest.raises(ApplicationError) as refused:
        parse(text, max_bytes=20_000)
    assert refused.value.code == "malformed"


def test_size_is_counted_in_bytes_and_binary_frames_count_too():
    with pytest.raises(FrameTooBigError):
        parse(json.dumps({"type": "x", "s": "\u00e9" * 300}, ensure_ascii=False), max_bytes=500)
    with pytest.raises(FrameTooBigError):
        frame_parse(None, b"x" * 501, max_bytes=500)
    with pytest.raises(ApplicationError) as refused:
        frame_parse(None, b"{}", max_bytes=500)
    assert refused.value.code == "malformed"
