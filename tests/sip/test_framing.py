"""Framing: Complete / NEED_DATA / NOT_SIP, datagrams and streams fed at every split.

Every stream test feeds the bytes whole, then one byte at a time, then in
random-looking pieces, and with trailing bytes of an unfinished message
(STYLE rule 14); ``property``-style checks over random splits live in
``test_properties.py``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence

import pytest
from factories import make_invite, make_response, sip_bytes
from factories_pcap import TcpStream, frame
from helpers import capture

from sipsniff.capture.sources import read_frames
from sipsniff.decode.budget import ReassemblyBudget
from sipsniff.decode.decoder import Decoder
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.diagnostics import Diagnostic, Stage, Trigger
from sipsniff.sip import framing
from sipsniff.sip.framing import MAX_SIP_MESSAGE, NEED_DATA, NOT_SIP, SipFramer, frame_one
from sipsniff.sip.message import SipMessage

UA = Endpoint("192.0.2.1", 40000)
SIP_PORT = Endpoint("192.0.2.2", 5060)
INVITE = make_invite(call_id="inv-1")
RINGING = make_response(180, "Ringing", call_id="inv-1")
OK = make_response(200, "OK", call_id="inv-1")


# -- frame_one -----------------------------------------------------------------
def test_frame_one_complete_message_length() -> None:
    assert frame_one(INVITE) == len(INVITE)
    assert frame_one(INVITE + OK) == len(INVITE)
    assert frame_one(b"\r\n" + OK, 2) == len(OK)


@pytest.mark.parametrize("cut", [1, 6, 30, INVITE.index(b"\r\n\r\n") + 2, len(INVITE) - 1])
def test_frame_one_needs_more_data_for_a_prefix(cut: int) -> None:
    assert frame_one(INVITE[:cut]) == NEED_DATA


@pytest.mark.parametrize(
    "data",
    [b"\x80\x08\x00\x01\x00\x00", b"GET / HTTP/1.1\r\n\r\n", b"hello world\r\n", b"\r\n"],
    ids=["rtp", "http", "text", "crlf"],
)
def test_frame_one_not_sip(data: bytes) -> None:
    assert frame_one(data) == NOT_SIP


def test_frame_one_message_without_content_length_has_no_body() -> None:
    msg = b"OPTIONS sip:x SIP/2.0\r\nCall-ID: c\r\n\r\n"
    assert frame_one(msg + b"tail") == len(msg)


def test_frame_one_content_length_in_compact_form() -> None:
    msg = b"MESSAGE sip:x SIP/2.0\r\nl: 5\r\n\r\nhello"
    assert frame_one(msg + b"INVITE") == len(msg)


# -- datagrams -------------------------------------------------------------------
class Feed:
    """A framer with its diagnostics, fed payloads numbered from frame 1."""

    def __init__(self, budget: ReassemblyBudget | None = None) -> None:
        self.diags: list[Diagnostic] = []
        self.framer = SipFramer(self.diags.append, budget=budget)
        self.frame = 0

    def udp(self, data: bytes, src: Endpoint = UA, dst: Endpoint = SIP_PORT) -> list[SipMessage]:
        self.frame += 1
        return self.framer.feed(Payload(self.frame, self.frame * 10, src, dst, Transport.UDP, data))

    def tcp(
        self,
        data: bytes,
        *,
        stream: int = 1,
        gap: bool = False,
        end: bool = False,
        src: Endpoint = UA,
        dst: Endpoint = SIP_PORT,
    ) -> list[SipMessage]:
        self.frame += 1
        p = Payload(self.frame, self.frame * 10, src, dst, Transport.TCP, data, stream, gap, end)
        return self.framer.feed(p)

    def pieces(self, data: bytes, cuts: Iterable[int], **kw: bool) -> list[SipMessage]:
        bounds = [0, *sorted(set(cuts) - {0}), len(data)]
        out: list[SipMessage] = []
        for a, b in itertools.pairwise(bounds):
            if b > a:
                out += self.tcp(data[a:b], **kw)  # type: ignore[arg-type]
        return out


def test_one_message_per_datagram_with_addresses_time_and_transport() -> None:
    f = Feed()
    (m,) = f.udp(INVITE)
    assert (m.frame, m.ts_ns, m.src, m.dst, m.transport) == (1, 10, UA, SIP_PORT, "UDP")
    assert (m.method, m.call_id, m.raw) == ("INVITE", "inv-1", INVITE)
    assert f.diags == []
    assert f.framer.messages == 1


def test_two_messages_in_one_datagram_are_both_parsed() -> None:
    f = Feed()
    assert [m.label for m in f.udp(RINGING + b"\r\n" + OK)] == ["180 Ringing", "200 OK"]
    assert f.diags == []


@pytest.mark.parametrize("ping", [b"\r\n\r\n", b"\r\n", b"\x00", b"\x00\x00\x00\x00", b""])
def test_keep_alives_are_skipped_silently(ping: bytes) -> None:
    f = Feed()
    assert f.udp(ping) == []
    assert f.diags == []


def test_rtp_between_random_ports_is_skipped_silently() -> None:
    f = Feed()
    rtp = b"\x80\x00\x12\x34" + bytes(range(160))
    assert f.udp(rtp, Endpoint("192.0.2.1", 16384), Endpoint("192.0.2.2", 30000)) == []
    assert f.diags == []
    assert f.framer.not_sip == 1


def test_binary_junk_on_port_5060_is_reported_once_with_its_frame() -> None:
    f = Feed()
    f.udp(INVITE)
    junk = bytes((i * 37 + 11) % 256 for i in range(512))
    assert f.udp(junk) == []
    assert [(d.frame, d.stage) for d in f.diags] == [(2, Stage.SIP)]
    assert "\n" not in f.diags[0].line()
    assert f.udp(OK)[0].frame == 3, "analysis goes on"


@pytest.mark.parametrize(
    "line",
    [b"INVITE sip:bob@example.com SIP/9.9", b"SIP/2.0 2OO OK", b"INVITE  sip:bob@x SIP/2.0"],
    ids=["version", "letter-o-code", "double-space"],
)
def test_bad_start_line_is_reported_once(line: bytes) -> None:
    f = Feed()
    data = line + b"\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"
    assert f.udp(data, Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 40002)) == []
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.BAD_START_LINE)]


def test_content_length_shorter_than_the_datagram_reports_the_trailing_bytes() -> None:
    f = Feed()
    (m,) = f.udp(INVITE + b"leftover")
    assert m.raw == INVITE
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.NOT_SIP)]
    assert f.diags[0].detail == "8 trailing bytes after the SIP message in a UDP datagram"


def test_content_length_longer_than_the_datagram_is_one_diagnostic() -> None:
    f = Feed()
    short = INVITE[:-20]
    (m,) = f.udp(short)
    assert m.body == short[short.index(b"\r\n\r\n") + 4 :]
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.CONTENT_LENGTH)]
    assert "but only" in f.diags[0].detail
    assert f.framer.malformed == 1


# -- streams ----------------------------------------------------------------------
CONVERSATION = INVITE + RINGING + OK


def _split_cases(data: bytes) -> dict[str, list[int]]:
    return {
        "whole": [],
        "byte-at-a-time": list(range(1, len(data))),
        "every-7": list(range(7, len(data), 7)),
        "inside-start-line": [3],
        "at-header-end": [data.index(b"\r\n\r\n") + 2, data.index(b"\r\n\r\n") + 4],
    }


@pytest.mark.parametrize("split", list(_split_cases(CONVERSATION)))
def test_stream_at_every_split_gives_the_same_messages(split: str) -> None:
    f = Feed()
    cuts = _split_cases(CONVERSATION)[split]
    out = f.pieces(CONVERSATION, cuts)
    assert [m.raw for m in out] == [INVITE, RINGING, OK]
    assert f.diags == []


@pytest.mark.parametrize("split", list(_split_cases(CONVERSATION)))
def test_stream_with_trailing_bytes_keeps_them_for_later(split: str) -> None:
    f = Feed()
    trailing = INVITE[:50]
    out = f.pieces(CONVERSATION + trailing, _split_cases(CONVERSATION)[split])
    assert [m.raw for m in out] == [INVITE, RINGING, OK]
    assert [m.raw for m in f.tcp(INVITE[50:])] == [INVITE]
    assert f.diags == []


def test_several_messages_in_one_segment_share_its_frame() -> None:
    f = Feed()
    f.tcp(b"\r\n")
    out = f.tcp(CONVERSATION)
    assert [(m.frame, m.label) for m in out] == [(2, "INVITE"), (2, "180 Ringing"), (2, "200 OK")]


def test_message_over_several_segments_has_the_frame_where_it_ends() -> None:
    f = Feed()
    assert f.tcp(INVITE[:100]) == []
    assert f.tcp(INVITE[100:200]) == []
    (m,) = f.tcp(INVITE[200:] + RINGING[:10])
    assert (m.frame, m.ts_ns, m.raw) == (3, 30, INVITE)
    (r,) = f.tcp(RINGING[10:])
    assert r.frame == 4


def test_keep_alive_crlfs_between_stream_messages_are_skipped() -> None:
    f = Feed()
    out = f.tcp(b"\r\n\r\n" + INVITE + b"\r\n\r\n\r\n" + OK + b"\r\n")
    assert [m.label for m in out] == ["INVITE", "200 OK"]
    assert f.diags == []


def test_streams_are_kept_apart() -> None:
    f = Feed()
    f.tcp(INVITE[:60], stream=1)
    f.tcp(OK[:60], stream=2, src=SIP_PORT, dst=UA)
    assert [m.raw for m in f.tcp(INVITE[60:], stream=1)] == [INVITE]
    assert [m.raw for m in f.tcp(OK[60:], stream=2, src=SIP_PORT, dst=UA)] == [OK]


def test_stream_whose_start_was_not_captured_resynchronises_on_a_start_line() -> None:
    f = Feed()
    tail = INVITE[INVITE.index(b"Call-ID") :]
    out = f.tcp(tail + RINGING + OK)
    assert [m.label for m in out] == ["180 Ringing", "200 OK"]
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.TCP_RESYNC)]
    assert f.diags[0].detail.startswith(f"{len(tail)} non-SIP bytes skipped on TCP")


def test_gap_in_the_stream_drops_the_unfinished_message_and_resynchronises() -> None:
    f = Feed()
    f.tcp(INVITE[:100])
    out = f.tcp(INVITE[300:] + OK, gap=True)
    assert [m.label for m in out] == ["200 OK"]
    # one line for the lost message; skipping the rest of it up to the next start
    # line is part of the same gap, not a second problem
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.TCP_GAP)]


def test_non_sip_stream_is_skipped_without_a_diagnostic_per_segment() -> None:
    f = Feed()
    for _ in range(20):
        f.tcp(b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n" * 3)
    assert f.diags == []
    assert f.framer.not_sip > 0


def test_stream_closed_inside_a_message_is_reported_once() -> None:
    f = Feed()
    f.tcp(INVITE + OK[:40])
    f.tcp(b"", end=True)
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.TRUNCATED)]
    assert "closed inside a message (40 bytes never completed)" in f.diags[0].detail


def test_capture_ending_inside_a_message_is_reported_at_flush() -> None:
    f = Feed()
    f.tcp(INVITE[:-5])
    f.framer.flush()
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.TRUNCATED)]


def test_content_length_longer_than_the_stream_waits_then_reports_truncation() -> None:
    f = Feed()
    liar = INVITE.replace(b"Content-Length: ", b"Content-Length: 9")  # 9xxx bytes
    assert f.tcp(liar) == []
    f.tcp(b"", end=True)
    assert [d.trigger for d in f.diags] == [Trigger.TRUNCATED]


def test_content_length_shorter_than_the_body_makes_the_rest_junk() -> None:
    f = Feed()
    body = "v=0\r\n"
    short = sip_bytes("MESSAGE sip:b SIP/2.0", body=body).replace(
        b"Content-Length: 5", b"Content-Length: 2"
    )
    out = f.tcp(short + OK)
    assert [(m.label, m.body) for m in out] == [("MESSAGE", b"v="), ("200 OK", b"")]
    assert [d.trigger for d in f.diags] == [Trigger.TCP_RESYNC]


def test_content_length_name_is_case_insensitive_on_streams() -> None:
    """Regression: the framer's Content-Length scan knew only [Cc]ontent-[Ll]ength and 'l',
    so 'CONTENT-LENGTH: 5' over TCP framed an empty body, lost it and reported twice."""
    f = Feed()
    msg = sip_bytes("MESSAGE sip:b SIP/2.0", body="v=0\r\n").replace(
        b"Content-Length", b"CONTENT-LENGTH"
    )
    out = f.tcp(msg + OK)
    assert [(m.label, m.body) for m in out] == [("MESSAGE", b"v=0\r\n"), ("200 OK", b"")]
    assert f.diags == []


def _huge_then_ok() -> tuple[bytes, bytes, bytes]:
    before = make_invite(call_id="before")
    huge = sip_bytes(
        "OPTIONS sip:b SIP/2.0", call_id="huge", extra=["User-Agent: " + "A" * (1 << 20)]
    )
    after = make_response(200, "OK", call_id="after")
    return before, huge, after


def test_one_megabyte_header_line_over_tcp_is_one_diagnostic() -> None:
    """Regression: after an oversized message each later segment of it got its own
    tcp-resync diagnostic (563 lines for a 1 MB header in 1400-byte segments)."""
    f = Feed()
    before, huge, after = _huge_then_ok()
    data = before + huge + after
    out = f.pieces(data, range(1400, len(data), 1400))
    assert [m.call_id for m in out] == ["before", "after"]
    assert len(f.diags) == 1
    assert f.diags[0].trigger == Trigger.OVERSIZED


def test_one_megabyte_header_line_over_tcp_does_not_stop_the_analysis() -> None:
    f = Feed()
    before, huge, after = _huge_then_ok()
    data = before + huge + after
    out = f.pieces(data, range(1400, len(data), 1400))
    assert [m.call_id for m in out] == ["before", "after"]
    assert f.diags[0].trigger == Trigger.OVERSIZED
    assert f.diags[0].frame == 1 + MAX_SIP_MESSAGE // 1400
    assert f"SIP message over {MAX_SIP_MESSAGE} bytes" in f.diags[0].detail


def test_oversized_content_length_is_skipped_not_buffered() -> None:
    f = Feed()
    liar = INVITE.replace(b"Content-Length: ", b"Content-Length: 99999999")
    out = f.tcp(liar + OK)
    assert [m.label for m in out] == ["200 OK"]
    assert f.diags[0].trigger == Trigger.OVERSIZED


def test_too_many_streams_evicts_the_oldest_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "MAX_STREAMS", 2)
    f = Feed()
    f.tcp(INVITE[:30], stream=1)
    f.tcp(INVITE[:30], stream=2)
    f.tcp(INVITE[:30], stream=3)
    assert [(d.frame, d.trigger) for d in f.diags] == [(1, Trigger.REASM_OVERFLOW)]


def _labels(msgs: Sequence[SipMessage]) -> list[str]:
    return [m.label for m in msgs]


def test_malformed_message_is_kept_and_reported_once() -> None:
    f = Feed()
    bad = b"INVITE sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z\r\nthis is garbage\r\n\r\n"
    out = f.udp(bad)
    assert _labels(out) == ["INVITE"]
    assert len(f.diags) == 1
    d = f.diags[0]
    assert (d.frame, d.stage, d.trigger) == (1, Stage.SIP, Trigger.BAD_SIP_HEADER)
    assert d.detail == (
        "INVITE Call-ID '': header #2: no colon in 'this is garbage'; "
        "missing call-id header; missing cseq header (+2 more)"
    )


# -- end to end through the real decoder ----------------------------------------------------------
def _through_decoder(frames: Sequence[bytes]) -> tuple[list[SipMessage], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    decoder, framer = Decoder(diags.append), SipFramer(diags.append)
    out: list[SipMessage] = []
    for n, data in enumerate(frames, 1):
        for p in decoder.feed(frame(data, n)):
            out += framer.feed(p)
    for p in decoder.flush():
        out += framer.feed(p)
    framer.flush()
    return out, diags


def test_hostile_capture_gives_one_line_per_bad_frame_and_keeps_the_rest() -> None:
    """captures/hostile.pcap (see captures/make_hostile.py for what each frame is)."""
    diags: list[Diagnostic] = []
    decoder, framer = Decoder(diags.append), SipFramer(diags.append)
    out: list[SipMessage] = []
    for fr in read_frames([capture("hostile.pcap")], diags.append):
        for p in decoder.feed(fr):
            out += framer.feed(p)
    assert [m.frame for m in out] == [1, 2, 3, 4, 5, 6, 7, 10]
    assert [(d.frame, d.trigger) for d in diags] == [
        (8, Trigger.NOT_SIP),  # 512 bytes of binary junk to port 5060
        (9, Trigger.NOT_SIP),  # an HTTP request to port 5060
        (10, Trigger.CONTENT_LENGTH),  # Content-Length 500, 62 body bytes
        (11, Trigger.BAD_START_LINE),  # SIP/9.9
        (12, Trigger.BAD_START_LINE),  # status code 2OO
    ]  # 13 (CRLF CRLF keep-alive) and 14 (empty datagram) are silent
    assert all("\n" not in d.line() and d.line().startswith(f"frame {d.frame}: ") for d in diags)
    huge = next(m for m in out if m.frame == 7)
    assert len(huge.headers.get("user-agent") or "") == 60_000


def test_tcp_bad_input_end_to_end_one_diagnostic_each() -> None:
    s = TcpStream()
    before = make_invite(call_id="before")
    huge = sip_bytes("OPTIONS sip:b SIP/2.0", call_id="huge", extra=["X-Big: " + "B" * (1 << 20)])
    after = make_response(200, "OK", call_id="after")
    data = before + huge + after
    segments = s.handshake() + s.segments(data, range(1448, len(data), 1448))
    # then a message whose Content-Length promises more than the stream ever carries
    liar = INVITE.replace(b"Content-Length: 140", b"Content-Length: 900")
    segments.append(s.segment(liar))
    out, diags = _through_decoder(segments)
    assert [m.call_id for m in out] == ["before", "after"]
    assert [d.trigger for d in diags] == [Trigger.OVERSIZED, Trigger.TRUNCATED]
    assert diags[1].frame == len(segments)


def test_a_message_over_several_segments_names_every_segment() -> None:
    """--write-pcap exports all of them, so Wireshark can reassemble the message too."""
    f = SipFramer(lambda d: None)
    first = make_invite()
    data = first + make_invite(call_id="two")
    cuts = [0, 100, 300, len(first) + 50, len(data)]
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        p = Payload(
            10 + i,
            0,
            Endpoint("192.0.2.1", 1),
            Endpoint("192.0.2.2", 2),
            Transport.TCP,
            data[a:b],
            1,
        )
        out += f.feed(p)
    assert [(m.frame, m.frames) for m in out] == [(12, (10, 11, 12)), (13, (12, 13))]


# -- cost: linear in the stream, whatever the segment sizes ------------------------------
def _big_message(body_len: int, pad: int = 0) -> bytes:
    """A message with a ``body_len``-byte body ending in CRLF, like SDP's."""
    return sip_bytes(
        "MESSAGE sip:bob@example.com SIP/2.0",
        call_id="big",
        extra=[f"X-Pad: {'p' * pad}"] if pad else [],
        body="b" * (body_len - 2) + "\r\n",
    )


def _feed_in(data: bytes, size: int) -> Feed:
    f = Feed()
    out = f.pieces(data, range(size, len(data), size))
    assert [m.raw for m in out] == [data]
    assert f.diags == []
    return f


def _best_of_3(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def test_a_128_kb_body_in_16_byte_segments_takes_well_under_a_second() -> None:
    """Regression: the buffer was rebuilt (buf + data) and rescanned for the header end on
    every segment, and the marks list rebuilt too: quadratic, seconds for this message."""
    msg = _big_message(128 * 1024)
    assert _best_of_3(lambda: _feed_in(msg, 16)) < 1.0


def test_body_in_small_segments_cost_grows_linearly() -> None:
    small, big = _big_message(48 * 1024), _big_message(192 * 1024)
    t_small = _best_of_3(lambda: _feed_in(small, 16))
    t_big = _best_of_3(lambda: _feed_in(big, 16))
    assert t_big < 8 * t_small, f"4x the body took {t_big / t_small:.1f}x the time"


def test_header_in_small_segments_cost_grows_linearly() -> None:
    """The search for the end of the header resumes where it stopped."""
    small, big = _big_message(10, pad=48 * 1024), _big_message(10, pad=192 * 1024)
    t_small = _best_of_3(lambda: _feed_in(small, 16))
    t_big = _best_of_3(lambda: _feed_in(big, 16))
    assert t_big < 8 * t_small, f"4x the header took {t_big / t_small:.1f}x the time"


def test_messages_after_a_first_line_that_was_not_sip_name_only_their_segment() -> None:
    """2,000 marks of a would-be start line, then its newline and many messages in one
    segment: each message is named by that segment alone."""
    f = Feed()
    line = b"INVITE " + b"x" * 1993
    for i in range(len(line)):
        assert f.tcp(line[i : i + 1]) == []
    out = f.tcp(b"\n" + OK * 300)
    assert [(m.raw, m.frames, m.frame) for m in out] == [(OK, (2001,), 2001)] * 300
    assert [d.trigger for d in f.diags] == [Trigger.TCP_RESYNC]


BIG = _big_message(3000)


@pytest.mark.parametrize("split", [*_split_cases(BIG), "every-16", "every-1400"])
def test_a_big_message_at_every_split_names_every_segment(split: str) -> None:
    cuts = {"every-16": list(range(16, len(BIG), 16)), "every-1400": [1400, 2800]}.get(
        split, _split_cases(BIG).get(split, [])
    )
    f = Feed()
    out = f.pieces(BIG + OK + INVITE[:30], cuts)  # every cut falls inside BIG
    assert [m.raw for m in out] == [BIG, OK]
    assert out[0].frames == tuple(range(1, len(cuts) + 2))
    assert out[1].frame == len(cuts) + 1
    assert f.diags == []
    assert [m.raw for m in f.tcp(INVITE[30:])] == [INVITE], "the trailing bytes were kept"


def test_message_split_around_keep_alives_and_junk_names_only_its_segments() -> None:
    f = Feed()
    f.tcp(b"\r\n\r\n" + INVITE[:40])  # frame 1
    f.tcp(INVITE[40:90])  # frame 2
    (m,) = f.tcp(INVITE[90:] + b"\r\n" + OK[:10])  # frame 3
    assert (m.raw, m.frames) == (INVITE, (1, 2, 3))
    (o,) = f.tcp(OK[10:])
    assert (o.raw, o.frames) == (OK, (3, 4))


# -- the memory budget --------------------------------------------------------------------
def test_budget_evicts_the_least_recently_grown_stream_and_it_resyncs_quietly() -> None:
    budget = ReassemblyBudget(5800)
    f = Feed(budget)
    big = _big_message(10_000)
    f.tcp(big[:2000], stream=1)  # frame 1
    f.tcp(big[2000:3000], stream=1)  # frame 2
    f.tcp(INVITE[:100], stream=2)  # frame 3
    f.tcp(big[3000:5500], stream=1)  # frame 4: 5500 bytes and 3 marks, and 100 and 1
    assert f.diags == []
    assert budget.used == 5500 + 100 + 4 * 16
    f.tcp(INVITE[100:400], stream=2)  # frame 5: stream 2 grows, stream 1 is the oldest
    assert f.diags == [
        Diagnostic(
            frame=1,  # where the dropped message began
            stage=Stage.SIP,
            trigger=Trigger.REASM_OVERFLOW,
            detail="reassembly memory budget (5800 bytes) exceeded at frame 5: 5500 buffered "
            "bytes of an unfinished message on TCP stream 1 dropped",
        )
    ]
    assert budget.used <= budget.limit
    assert budget.evictions == 1
    # the rest of stream 1's message is skipped without a line; the next message is framed
    assert [m.raw for m in f.tcp(big[5500:9000], stream=1)] == []
    assert [m.raw for m in f.tcp(big[9000:] + OK, stream=1)] == [OK]
    assert [m.raw for m in f.tcp(INVITE[400:], stream=2)] == [INVITE]
    assert len(f.diags) == 1


@pytest.mark.parametrize("size", [1, 16, 1400])
def test_budget_bounds_many_streams_at_every_split(size: int) -> None:
    budget = ReassemblyBudget(20_000)
    f = Feed(budget)
    msg = _big_message(6000)
    for a in range(0, len(msg), size):
        for sid in range(1, 9):
            f.tcp(msg[a : a + size], stream=sid)
            assert budget.used <= budget.limit
    assert budget.evictions > 0
    assert len(f.diags) == budget.evictions
    assert {d.trigger for d in f.diags} == {Trigger.REASM_OVERFLOW}
    # each diagnostic names the frame where its stream's message began (stream k's
    # first segment is frame k), and an evicted stream is not evicted again: the rest
    # of its message is skipped, keeping only a tail that is not counted
    assert sorted(d.frame for d in f.diags) == sorted({d.frame for d in f.diags})
    assert {d.frame for d in f.diags} <= set(range(1, 9))
    f.framer.flush()
    assert budget.used == 0


def test_budget_eviction_is_reported_by_shard_0_only() -> None:
    """Every shard frames every stream, so each evicts alike; shard 0 says so."""
    seen = []
    for index in (0, 1):
        diags: list[Diagnostic] = []
        budget = ReassemblyBudget(3000)
        framer = SipFramer(diags.append, (index, 2), budget=budget)
        for sid in (1, 2):
            framer.feed(
                Payload(sid, 0, UA, SIP_PORT, Transport.TCP, INVITE[:100] + b"x" * 1900, sid)
            )
        seen.append((len(diags), budget.evictions))
    assert seen == [(1, 1), (0, 1)]
