"""A transcript as WebVTT, for the player's captions and for download."""

from collections.abc import Iterable

from replays.models import TranscriptSegment


def _timestamp(seconds: float) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02}:{minutes:02}:{secs:02}.{millis:03}"


def _escaped(text: str) -> str:
    # A cue's text may not hold "-->", and &, < and > are markup.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("-->", "--&gt;")


def transcript_vtt(segments: Iterable[TranscriptSegment]) -> str:
    """Cues in order, each with its speaker as a voice span when known."""
    lines = ["WEBVTT", ""]
    for number, segment in enumerate(segments, start=1):
        text = _escaped(" ".join(segment.text.split()))
        if segment.user is not None:
            name = _escaped(segment.user.name).replace("\n", " ")
            text = f"<v {name}>{text}"
        lines += [
            str(number),
            f"{_timestamp(segment.start)} --> {_timestamp(segment.end)}",
            text,
            "",
        ]
    return "\n".join(lines)
