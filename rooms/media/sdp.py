"""Session descriptions (SDP, RFC 8866) read the way browsers read them, or refused.

A check on an SDP is only as good as its agreement with the browser that will act on it.
Python's `splitlines()` and `strip()` treat U+0085, U+2028, form feed and more as line
breaks or blanks where browsers do not, so "a=recvonly" hidden behind one of them was read
here as a direction and by the browser as noise. This parser follows the grammar instead:
lines end in CRLF or LF and nothing else; a line is a lowercase letter, `=`, and a value; no
control characters anywhere; non-ASCII text only in the free-text lines (`s=`, `i=`); a
direction attribute stands alone, at most once per section. Anything else is refused
(SdpError) rather than guessed at.

    description = parse(sdp)
    for section in description.media:
        section.kind, section.port, section.direction, section.sends()
"""

import re
from dataclasses import dataclass

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
SENDING = frozenset({"sendrecv", "sendonly"})
# RFC 3264: a description without any direction attribute is sendrecv.
DEFAULT_DIRECTION = "sendrecv"
# Free text (session name and information) may be UTF-8; every other line is ASCII.
TEXT_LINES = frozenset("si")
# C0 controls, DEL, C1 controls (U+0085 among them), and the Unicode line and paragraph
# separators: none has a place in a description, and each is read differently by
# different parsers.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
LINE = re.compile(r"([a-z])=(.*)", re.DOTALL)


class SdpError(ValueError):
    """The text is not a description that every reader would read the same way."""


@dataclass(frozen=True)
class MediaSection:
    kind: str  # audio, video, application, ...
    port: int
    protocol: str
    formats: tuple[str, ...]
    # The section's own direction, or the session's, or sendrecv.
    direction: str
    attributes: tuple[str, ...]  # each `a=` line's value, in order

    @property
    def bundle_only(self) -> bool:
        return "bundle-only" in self.attributes

    @property
    def rejected(self) -> bool:
        """Port 0 rejects a section, except one that rides on a bundle (RFC 8843)."""
        return self.port == 0 and not self.bundle_only

    def sends(self) -> bool:
        """True when this section would carry media from the describing side."""
        return not self.rejected and self.direction in SENDING


@dataclass(frozen=True)
class SessionDescription:
    direction: str  # the session-level default for its sections
    media: tuple[MediaSection, ...]
    attributes: tuple[str, ...]  # session-level `a=` values

    def sends(self) -> bool:
        return any(section.sends() for section in self.media)


def _lines(sdp: str) -> list[str]:
    lines = sdp.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if FORBIDDEN.search(line):
            raise SdpError(f"Line {number} holds a control or line-separator character.")
        match = LINE.fullmatch(line)
        if match is None:
            raise SdpError(f"Line {number} is not `<letter>=<value>`.")
        if match[1] not in TEXT_LINES and not line.isascii():
            raise SdpError(f"Line {number} holds non-ASCII text outside a name or title.")
    return lines


def _direction(attributes: list[str], inherited: str) -> str:
    """The one direction attribute among these, else `inherited`."""
    found = []
    for attribute in attributes:
        name = re.split("[: ]", attribute, maxsplit=1)[0]
        if name in DIRECTIONS:
            if attribute != name:
                raise SdpError(f"`a={name}` takes no value.")
            found.append(name)
    if len(found) > 1:
        raise SdpError("A section has more than one direction.")
    return found[0] if found else inherited


def _media_line(value: str) -> tuple[str, int, str, tuple[str, ...]]:
    fields = value.split(" ")
    if len(fields) < 4 or "" in fields:
        raise SdpError("`m=` is `<media> <port> <proto> <fmt> ...`, single spaces.")
    kind, port, protocol, *formats = fields
    port_number = port.split("/", 1)[0]
    if not port_number.isdigit() or not port_number.isascii() or int(port_number) > 65535:
        raise SdpError("The port of an `m=` line is a number from 0 to 65535.")
    return kind, int(port_number), protocol, tuple(formats)


def parse(sdp: str) -> SessionDescription:
    """The description's sessions and media sections, or SdpError."""
    lines = _lines(sdp)
    if not lines or lines[0] != "v=0":
        raise SdpError("A description starts with `v=0`.")
    session_attributes: list[str] = []
    sections: list[tuple[str, list[str]]] = []  # (m= value, a= values)
    for line in lines:
        kind, value = line[0], line[2:]
        if kind == "m":
            sections.append((value, []))
        elif kind == "a":
            (sections[-1][1] if sections else session_attributes).append(value)
    session_direction = _direction(session_attributes, DEFAULT_DIRECTION)
    media = []
    for media_line, attributes in sections:
        kind, port, protocol, formats = _media_line(media_line)
        media.append(
            MediaSection(
                kind=kind,
                port=port,
                protocol=protocol,
                formats=formats,
                direction=_direction(attributes, session_direction),
                attributes=tuple(attributes),
            )
        )
    return SessionDescription(
        direction=session_direction, media=tuple(media), attributes=tuple(session_attributes)
    )
