"""What every frame a browser sends over a socket must be, before any consumer looks at it.

One gate for the room and notification sockets: a size limit, JSON text, an object with a
string `type`, a bounded depth, and only values that every later step can carry — the
database (64-bit integers, no NUL in text), msgpack on the Redis channel layer (integers
under 2^64, strings that encode as UTF-8) and the browsers that receive a relayed frame
(finite numbers). Numbers are held to the range a browser's JSON has exactly (+-(2^53 - 1)),
which keeps them inside all of those.
"""

import json
import math

from core.errors import ApplicationError

MAX_DEPTH = 8
SAFE_INTEGER = 2**53 - 1


class FrameTooBigError(ApplicationError):
    """Closes the socket (CLOSE_TOO_BIG) rather than answering: the sender is not a browser
    running our client."""

    def __init__(self, max_bytes: int):
        super().__init__(f"Frames are at most {max_bytes} bytes.", code="frame_too_big", status=413)


def _malformed(message: str) -> ApplicationError:
    return ApplicationError(message, code="malformed")


def _integer(text: str) -> int:
    number = int(text)
    if abs(number) > SAFE_INTEGER:
        raise _malformed(f"Whole numbers in frames lie between -{SAFE_INTEGER} and {SAFE_INTEGER}.")
    return number


def _real(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _malformed("Numbers in frames are finite.")
    return number


def _constant(name: str):
    raise _malformed(f"`{name}` is not a JSON number.")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _malformed("Text in frames never holds a NUL character.")
    try:
        text.encode()
    except UnicodeEncodeError as error:
        raise _malformed("Text in frames is valid Unicode (no lone surrogates).") from error


def _check_shape(frame) -> None:
    """Depth and text of every value, without recursion."""
    pending = [(frame, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _malformed(f"Frames nest at most {MAX_DEPTH} levels deep.")
            if isinstance(value, dict):
                pending.extend((key, depth) for key in value)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)


def frame_parse(text_data: str | None, bytes_data: bytes | None, *, max_bytes: int) -> dict:
    """The frame as a dict with a string `type`, or an ApplicationError saying what is wrong
    (FrameTooBigError for one over `max_bytes`)."""
    size = len(text_data.encode("utf-8", "surrogatepass")) if text_data is not None else 0
    if size > max_bytes or len(bytes_data or b"") > max_bytes:
        raise FrameTooBigError(max_bytes)
    if text_data is None:
        raise _malformed("Frames are JSON text.")
    try:
        frame = json.loads(
            text_data, parse_int=_integer, parse_float=_real, parse_constant=_constant
        )
    except RecursionError as error:
        raise _malformed(f"Frames nest at most {MAX_DEPTH} levels deep.") from error
    except ValueError as error:
        raise _malformed("That frame is not valid JSON.") from error
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise _malformed("A frame is a JSON object with a `type`.")
    _check_shape(frame)
    return frame
