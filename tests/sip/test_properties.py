"""Property tests (hypothesis) for the SIP layer and the TCP path that feeds it.

- A message built from random valid parts parses back to the same parts.
- Valid messages cut into random TCP segments, delivered in any order with
  retransmissions, come out of the real ``TcpReassembler`` + ``SipFramer`` as
  the same messages, once each, numbered with the frame that completed them.
- Random and mutated bytes never make the parser, the framer or the SDP
  parser raise anything but ``DecodeError``.

Crashes found by the fuzzers are pinned with ``@example``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.decode.tcp import TcpReassembler
from sipsniff.diagnostics import DecodeError, Diagnostic, Trigger
from sipsniff.sip.framing import SipFramer, frame_one
from sipsniff.sip.grammar import COMPACT_FORMS
from sipsniff.sip.headers import parse_name_addr
from sipsniff.sip.message import SipMessage, parse_message
from sipsniff.sip.methods import Method
from sipsniff.sip.sdp import parse_sdp

UA = Endpoint("192.0.2.1", 40000)
PBX = Endpoint("192.0.2.2", 5060)
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies: the parts of a valid message ---------------------------------------------
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
token = st.text(_ALNUM + "-.!%*_+`'~", min_size=1, max_size=16)
word = st.text(_ALNUM + "-.!%*_+`'~()<>:\\\"/[]?{}", min_size=1, max_size=24)
methods = st.sampled_from([m.value for m in Method]) | st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=10
)
reason = st.text(_ALNUM + " .,'-", max_size=30).map(str.strip)
value_words = st.lists(
    st.text(_ALNUM + "@:;=<>/.,_-", min_size=1, max_size=12), min_size=1, max_size=5
)

_NAMES = {
    "call-id": ("Call-ID", "i"),
    "cseq": ("CSeq",),
    "from": ("From", "f"),
    "to": ("To", "t"),
    "via": ("Via", "v"),
    "content-length": ("Content-Length", "l"),
    "content-type": ("Content-Type", "c"),
}
assert all(COMPACT_FORMS[n[1]] == k for k, n in _NAMES.items() if len(n) > 1)


@dataclass(frozen=True)
class Parts:
    """What a message is made of, to compare with what the parser finds."""

    method: str
    uri: str
    status: int
    reason: str
    call_id: str
    cseq: int
    cseq_method: str
    branch: str
    from_tag: str
    to_tag: str
    extra: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self, draw: st.DrawFn | None = None) -> bytes:
        """The wire form; with ``draw``, header spellings, spacing, order and folding vary."""

        def pick(options: Sequence[str]) -> str:
            return options[0] if draw is None else draw(st.sampled_from(options))

        def name(key: str) -> str:
            n = pick(_NAMES[key])
            return pick([n, n.lower(), n.upper()])

        def colon() -> str:
            return pick([": ", ":", " : ", ":\t"])

        start = (
            f"{self.method} {self.uri} SIP/2.0"
            if self.status == 0
            else f"SIP/2.0 {self.status} {self.reason}".rstrip(" ")
        )
        to_tag = f";tag={self.to_tag}" if self.to_tag else ""
        lines = [
            f"{name('via')}{colon()}SIP/2.0/TCP 192.0.2.1:40000;branch={self.branch};rport",
            f'{name("from")}{colon()}"Caller" <sip:a@example.com>;tag={self.from_tag}',
            f"{name('to')}{colon()}<sip:b@example.com>{to_tag}",
            f"{name('call-id')}{colon()}{self.call_id}",
            f"{name('cseq')}{colon()}{self.cseq} {self.cseq_method}",
        ]
        for k, v in self.extra:
            # fold the value at a space now and then (RFC 3261 7.3.1)
            if draw is not None and " " in v and draw(st.booleans()):
                head, tail = v.split(" ", 1)
                v = head + "\r\n" + pick([" ", "\t", "   "]) + tail
            lines.append(f"{k}{colon()}{v}")
        if draw is not None:
            draw(st.randoms(use_true_random=False)).shuffle(lines)
        lines.insert(0, start)
        lines.append(f"{name('content-type')}{colon()}application/octet-stream")
        lines.append(f"{name('content-length')}{colon()}{len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@st.composite
def parts(draw: st.DrawFn) -> Parts:
    is_request = draw(st.booleans())
    extra_names = draw(st.lists(token.map(lambda t: "X-" + t), max_size=4, unique_by=str.lower))
    return Parts(
        method=draw(methods) if is_request else "",
        uri=f"sip:{draw(token)}@{draw(token)}.example.com" if is_request else "",
        status=0 if is_request else draw(st.integers(100, 699)),
        reason="" if is_request else draw(reason),
        call_id=draw(word),
        cseq=draw(st.integers(0, 2**31 - 1)),
        cseq_method=draw(methods),
        branch="z9hG4bK" + draw(token),
        from_tag=draw(token),
        to_tag=draw(st.just("") | token),
        extra=tuple((n, " ".join(draw(value_words))) for n in extra_names),
        body=draw(st.binary(max_size=64)),
    )


@st.composite
def messages(draw: st.DrawFn) -> tuple[Parts, bytes]:
    p = draw(parts())
    return p, p.encode(draw)


# -- 1. random valid parts parse back to the same parts --------------------------------------
def _check(m: SipMessage, p: Parts) -> None:
    assert (m.method, m.uri, m.status) == (p.method, p.uri, p.status)
    if p.status:
        assert m.reason == p.reason
    assert (m.call_id, m.cseq_num, m.cseq_method) == (p.call_id, p.cseq, p.cseq_method)
    assert (m.branch, m.from_tag, m.to_tag) == (p.branch, p.from_tag, p.to_tag)
    for k, v in p.extra:
        assert m.headers.get_all(k) == [v]
    assert m.body == p.body
    assert m.problems == ()


@FAST
@given(messages())
def test_message_from_random_valid_parts_parses_back_to_them(msg: tuple[Parts, bytes]) -> None:
    p, data = msg
    m = parse_message(data, frame=1, ts_ns=0, src=UA, dst=PBX, transport=Transport.UDP)
    _check(m, p)
    assert m.raw == data
    assert frame_one(data) == len(data)


# -- 2. any segmentation, any arrival order, through the real reassembler and framer ------------
ISN = 0xFFFF_FF00  # so that random streams wrap the sequence space now and then


def _run_tcp(
    stream: bytes, pieces: list[tuple[int, int]], order: list[int]
) -> tuple[list[SipMessage], list[Diagnostic], list[int]]:
    """Feed ``pieces`` (byte ranges of ``stream``) in ``order``; frame n = n-th arrival.

    Also returns, for every arrival, how many bytes of the stream were contiguous
    after it (the oracle for which frame completes which message).
    """
    diags: list[Diagnostic] = []
    tcp = TcpReassembler(diags.append)
    framer = SipFramer(diags.append)
    out: list[SipMessage] = []
    covered = bytearray(len(stream))
    prefix: list[int] = []
    tcp.segment(UA, PBX, ISN, 0x02, b"", 0, 0)  # SYN
    for n, i in enumerate(order, 1):
        a, b = pieces[i]
        for payload in tcp.segment(UA, PBX, (ISN + 1 + a) & 0xFFFFFFFF, 0x18, stream[a:b], n, n):
            out += framer.feed(payload)
        covered[a:b] = b"\x01" * (b - a)
        prefix.append(covered.find(0) if 0 in covered else len(covered))
    for payload in tcp.flush():
        out += framer.feed(payload)
    framer.flush()
    return out, diags, prefix


TcpRun = tuple[list[tuple[Parts, bytes]], bytes, list[tuple[int, int]], list[int], list[int]]
"""Messages, the stream they make, its pieces, their arrival order, where each message ends."""


@st.composite
def tcp_runs(draw: st.DrawFn) -> TcpRun:
    msgs = draw(st.lists(messages(), min_size=1, max_size=4))
    ends: list[int] = []
    stream = b""
    for _, data in msgs:
        stream += draw(st.sampled_from([b"", b"", b"\r\n", b"\r\n\r\n"])) + data  # keep-alives
        ends.append(len(stream))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(stream) - 1), max_size=20))))
    bounds = [0, *cuts, len(stream)]
    pieces = list(itertools.pairwise(bounds))
    order = list(range(len(pieces)))
    if draw(st.booleans()):
        # out of order after the first segment, with a few retransmissions (maybe overlapping)
        rest = order[1:]
        draw(st.randoms(use_true_random=False)).shuffle(rest)
        order = [0, *rest]
        for _ in range(draw(st.integers(0, 3))):
            a = draw(st.integers(0, len(stream) - 1))
            b = draw(st.integers(a + 1, len(stream)))
            pieces.append((a, b))
            order.insert(draw(st.integers(1, len(order))), len(pieces) - 1)
    return msgs, stream, pieces, order, ends


@FAST
@given(tcp_runs())
def test_random_segmentation_reassembles_to_the_same_messages(
    run: TcpRun,
) -> None:
    msgs, stream, pieces, order, ends = run
    out, diags, prefix = _run_tcp(stream, pieces, order)
    assert diags == []
    assert [m.raw for m in out] == [data for _, data in msgs]
    for m, (p, _) in zip(out, msgs, strict=True):
        _check(m, p)
        assert m.transport == "TCP"
    # each message carries the frame whose arrival made its last byte contiguous
    expected = [next(n for n, got in enumerate(prefix, 1) if got >= end) for end in ends]
    assert [m.frame for m in out] == expected


@FAST
@given(st.lists(messages(), min_size=1, max_size=3), st.data())
def test_trailing_partial_message_is_held_then_reported_at_the_end(
    msgs: list[tuple[Parts, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(d for _, d in msgs)
    _, extra = data.draw(messages())
    cut = data.draw(st.integers(1, len(extra) - 1))
    whole = stream + extra[:cut]
    out, diags, _ = _run_tcp(whole, [(0, len(whole))], [0])
    assert [m.raw for m in out] == [d for _, d in msgs]
    if extra[:cut].strip(b"\r\n"):
        assert [d.trigger for d in diags] == [Trigger.TRUNCATED]


def test_byte_at_a_time_through_the_reassembler() -> None:
    p = Parts("INVITE", "sip:b@x", 0, "", "c1@x", 1, "INVITE", "z9hG4bK1", "f", "", (), b"body")
    one = p.encode()
    stream = one + b"\r\n" + one + one
    pieces = [(i, i + 1) for i in range(len(stream))]
    out, diags, _ = _run_tcp(stream, pieces, list(range(len(pieces))))
    assert diags == []
    assert [m.raw for m in out] == [one] * 3
    n = len(one)
    assert [m.frame for m in out] == [n, 2 * n + 2, 3 * n + 2]
    for m in out:
        _check(m, p)


# -- 3. fuzzing: only DecodeError ever escapes ---------------------------------------------------
_VALID = (
    b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
    b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
    b"Content-Type: application/sdp\r\nContent-Length: 48\r\n\r\n"
    b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0 96\r\n"
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid message with random bytes replaced, inserted or cut: closer to real damage."""
    data = bytearray(_VALID)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        i = draw(st.integers(0, len(data) - 1)) if data else 0
        if op == "replace" and data:
            data[i] = draw(st.sampled_from(b'\x00\r\n :;,<>"\t\xff0'))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[i]
        else:
            del data[i:]
    return bytes(data)


def _parse_or_decode_error(data: bytes) -> SipMessage | None:
    try:
        m = parse_message(data, frame=1, ts_ns=0, src=UA, dst=PBX, transport=Transport.UDP)
    except DecodeError:
        return None
    # the lazily parsed parts must not raise either
    _ = (m.headers.items, m.headers.problems, m.from_addr, m.to_addr, m.label, m.user_agent)
    _ = m.headers.get_all("via"), m.request_user
    return m


@settings(max_examples=250, deadline=None)
@given(st.binary(max_size=300) | mutated())
@example(b"SIP/2.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n")
@example(b"INVITE sip:x SIP/2.0\r\n\r\n\r\n")
@example(b"INVITE sip:x SIP/2.0\n\n")
@example(b"SIP/2.0 100\r\n ")
@example(b"INVITE sip:x SIP/2.0\r\nContent-Type: sdp\r\n\r\nm=\r\nm=audio\r\nc=\r\n")
def test_parser_only_raises_decode_error(data: bytes) -> None:
    _parse_or_decode_error(data)
    frame_one(data)
    parse_sdp(data)
    parse_name_addr(data.decode("utf-8", "replace"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=120) | mutated(), min_size=1, max_size=6),
    st.sampled_from([5060, 5080, 40002]),
)
def test_framer_never_raises(chunks: list[bytes], port: int) -> None:
    diags: list[Diagnostic] = []
    framer = SipFramer(diags.append)
    dst = Endpoint("192.0.2.2", port)
    for n, chunk in enumerate(chunks, 1):
        framer.feed(Payload(n, n, UA, dst, Transport.UDP, chunk))
        framer.feed(Payload(n, n, UA, dst, Transport.TCP, chunk, 1))
    framer.feed(Payload(99, 99, UA, dst, Transport.TCP, b"", 1, False, True))
    framer.flush()
    assert all("\n" not in d.line() for d in diags), "every diagnostic is one line"
