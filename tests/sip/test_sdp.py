"""SDP: origin, session and media connection addresses, media lines, rtpmap, direction."""

from __future__ import annotations

import pytest

from sipsniff.sip.sdp import Media, Sdp, parse_sdp

OFFER = (
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n"
    "s=call\r\n"
    "c=IN IP4 192.0.2.11\r\n"
    "t=0 0\r\n"
    "a=sendonly\r\n"
    "m=audio 49170 RTP/AVP 0 8 97 101 13\r\n"
    "a=rtpmap:97 opus/48000/2\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "m=video 51372/2 RTP/AVPF 96 31\r\n"
    "c=IN IP6 2001:db8::5\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=inactive\r\n"
    "m=image 0 udptl t38\r\n"
    "c=IN IP4 224.2.1.1/127/3\r\n"
)


def test_session_level_fields() -> None:
    sdp = parse_sdp(OFFER.encode())
    assert (sdp.origin_addr, sdp.session_id, sdp.version) == (
        "192.0.2.10",
        "2890844526",
        "2890844527",
    )
    assert (sdp.connection, sdp.direction, sdp.problems) == ("192.0.2.11", "sendonly", ())


def test_media_lines() -> None:
    audio, video, image = parse_sdp(OFFER.encode()).media
    assert audio == Media(
        kind="audio",
        port=49170,
        proto="RTP/AVP",
        formats=("0", "8", "97", "101", "13"),
        codecs=("PCMU/8000", "PCMA/8000", "opus/48000/2", "telephone-event/8000", "CN/8000"),
        connection="192.0.2.11",  # inherited from the session level
        direction="sendonly",  # inherited from the session level
    )
    assert (video.port, video.proto, video.connection, video.direction) == (
        51372,
        "RTP/AVPF",
        "2001:db8::5",
        "inactive",
    )
    assert video.codecs == ("H264/90000", "H261/90000")
    assert (image.kind, image.port, image.formats, image.codecs) == ("image", 0, ("t38",), ("t38",))
    assert image.connection == "224.2.1.1", "TTL and address count are not part of the address"


def test_audio_property_and_summary() -> None:
    sdp = parse_sdp(OFFER.encode())
    assert sdp.audio is not None
    assert sdp.audio.port == 49170
    assert sdp.summary() == (
        "audio 192.0.2.11:49170 PCMU,PCMA,opus,telephone-event,CN sendonly; "
        "video 2001:db8::5:51372 H264,H261 inactive; "
        "image 224.2.1.1:0 t38 sendonly"
    )


def test_defaults_when_nothing_is_said() -> None:
    sdp = parse_sdp(b"v=0\r\nm=audio 4000 RTP/AVP 18 99\r\n")
    assert (sdp.origin_addr, sdp.connection, sdp.direction) == ("", "", "sendrecv")
    (m,) = sdp.media
    assert (m.connection, m.direction, m.codecs) == ("", "sendrecv", ("G729/8000", "99"))
    assert parse_sdp(b"v=0\r\n").summary() == "no media"
    assert parse_sdp(b"").audio is None


@pytest.mark.parametrize("direction", ["sendrecv", "sendonly", "recvonly", "inactive"])
def test_media_direction_overrides_the_session(direction: str) -> None:
    sdp = parse_sdp(f"v=0\r\na=sendonly\r\nm=audio 1 RTP/AVP 0\r\na={direction}\r\n".encode())
    assert sdp.direction == "sendonly"
    assert sdp.media[0].direction == direction


def test_hold_with_zero_address() -> None:
    sdp = parse_sdp(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n")
    assert sdp.media[0].connection == "0.0.0.0"


def test_bare_lf_lines() -> None:
    sdp = parse_sdp(OFFER.replace("\r\n", "\n").encode())
    assert sdp == parse_sdp(OFFER.encode())


def test_junk_lines_are_problems_never_exceptions() -> None:
    sdp = parse_sdp(
        b"v=0\r\nthis is not sdp\r\nm=audio xx RTP/AVP 0\r\nm=\r\nc=IN\r\no=short\r\n\xff\xfe\r\n"
    )
    assert sdp.problems == (
        "not an SDP line: 'this is not sdp'",
        "bad media line: 'audio xx RTP/AVP 0'",
        "bad media line: ''",
        "not an SDP line: '\ufffd\ufffd'",
    )
    assert [(m.kind, m.port) for m in sdp.media] == [("audio", 0), ("", 0)]
    assert (sdp.origin_addr, sdp.connection) == ("", "")


def test_rtpmap_before_any_media_is_ignored() -> None:
    sdp = parse_sdp(b"v=0\r\na=rtpmap:96 X/1\r\nm=audio 1 RTP/AVP 96\r\n")
    assert sdp.media[0].codecs == ("96",)


def test_sdp_is_frozen() -> None:
    sdp = parse_sdp(OFFER.encode())
    assert isinstance(sdp, Sdp)
    with pytest.raises(AttributeError):
        sdp.connection = "x"  # type: ignore[misc]
