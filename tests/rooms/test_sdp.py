"""The SDP parser: browsers' reading of a description, or a refusal."""

import pytest

from core.errors import ApplicationError
from rooms.media import sdp
from rooms.media.signalling import sdp_sends_media

HEAD = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
AUDIO = "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"


def test_a_description_parses_into_sections_with_resolved_directions():
    text = (
        HEAD
        + "a=group:BUNDLE 0 1 2\r\na=recvonly\r\n"
        + AUDIO
        + "m=audio 9/2 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=sendrecv\r\n"
        + "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=sendonly\r\n"
    )
    description = sdp.parse(text)
    assert description.direction == "recvonly"
    assert description.attributes == ("group:BUNDLE 0 1 2", "recvonly")
    first, second, third = description.media
    assert (first.kind, first.port, first.protocol, first.formats) == (
        "audio",
        9,
        "UDP/TLS/RTP/SAVPF",
        ("111", "0"),
    )
    assert (first.direction, first.sends()) == ("recvonly", False)
    assert (second.port, second.direction, second.sends()) == (9, "sendrecv", True)
    assert (third.kind, third.rejected, third.sends()) == ("video", True, False)
    assert description.sends()


def test_lines_may_end_in_lf_alone_and_without_a_direction_a_section_sends():
    description = sdp.parse(HEAD.replace("\r\n", "\n") + AUDIO.replace("\r\n", "\n"))
    assert [(m.kind, m.direction) for m in description.media] == [("audio", "sendrecv")]
    assert description.sends()


def test_a_bundle_only_section_on_port_0_is_not_rejected():
    """Firefox offers bundled sections on port 0: they carry media over the first one's
    transport, so a listener could send through one."""
    text = HEAD + AUDIO + "a=recvonly\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=bundle-only\r\n"
    second = sdp.parse(text).media[1]
    assert (second.rejected, second.sends()) == (False, True)
    assert sdp_sends_media(text) is True


# Each hides `a=recvonly` (or a stray character) where Python's splitlines()/strip() saw a
# line or a blank and a browser sees part of another line: the old check said "does not
# send" and the browser sent.
@pytest.mark.parametrize(
    "trick",
    [
        "a=mid:0\x85a=recvonly\r\n",  # NEXT LINE
        "a=mid:0\u2028a=recvonly\r\n",  # LINE SEPARATOR
        "a=mid:0\u2029a=recvonly\r\n",  # PARAGRAPH SEPARATOR
        "a=mid:0\x0ca=recvonly\r\n",  # form feed
        "a=mid:0\x0ba=recvonly\r\n",  # vertical tab
        "a=mid:0\x1ca=recvonly\r\n",  # file separator
        "a=mid:0\ra=recvonly\r\n",  # a lone CR
        "a=recvonly\u00a0\r\n",  # no-break space
        "a=recvonly\t\r\n",  # tab
        "a=recvonly\x00\r\n",  # NUL
        " a=recvonly\r\n",  # leading blank
        "a=recvonly\u3000\r\n",  # ideographic space
    ],
)
def test_characters_read_differently_by_different_parsers_are_refused(trick):
    text = HEAD + AUDIO + trick
    with pytest.raises(sdp.SdpError):
        sdp.parse(text)
    with pytest.raises(ApplicationError) as refused:
        sdp_sends_media(text)
    assert refused.value.code == "invalid_sdp"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "o=- 1 2 IN IP4 127.0.0.1\r\n",  # no v=0 first
        HEAD + "\r\n" + AUDIO,  # an empty line
        HEAD + "m=audio 9\r\n",  # too few fields
        HEAD + "m=audio  9 UDP/TLS/RTP/SAVPF 111\r\n",  # two spaces
        HEAD + "m=audio x UDP/TLS/RTP/SAVPF 111\r\n",  # no port
        HEAD + "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n",
        HEAD + AUDIO + "a=recvonly\r\na=sendrecv\r\n",  # two directions
        HEAD + AUDIO + "a=recvonly:yes\r\n",  # Chromium reads this as recvonly too
        HEAD + AUDIO + "a=sendrecv extra\r\n",
        HEAD + "A=recvonly\r\n",  # upper-case type
        HEAD + AUDIO + "a=ssrc:1 cname:caf\u00e9\r\n",  # non-ASCII outside free text
    ],
)
def test_malformed_or_ambiguous_descriptions_are_refused(text):
    with pytest.raises(sdp.SdpError):
        sdp.parse(text)


def test_free_text_lines_may_hold_unicode():
    text = HEAD.replace("s=-", "s=Caf\u00e9 \u2615") + "i=\u00bfQu\u00e9 tal?\r\n" + AUDIO
    assert sdp.parse(text).media[0].kind == "audio"
