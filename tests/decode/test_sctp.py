"""SCTP DATA chunks to user messages: order, duplicates, bounds and lying lengths.

Packets are built with ``struct`` (RFC 9260 layouts) so each test says exactly
which bytes it feeds; the end-to-end comparison with tshark is in
``test_tunnels.py``.
"""

from __future__ import annotations

import struct

from sipsniff.decode.budget import FRAGMENT_COST, ReassemblyBudget
from sipsniff.decode.payload import Payload, Transport
from sipsniff.decode.sctp import MAX_PIECES, SctpReassembler
from sipsniff.diagnostics import Diagnostic, Stage, Trigger

SRC, DST = "127.0.0.1", "127.0.0.2"
MSG = b"OPTIONS sip:x@127.0.0.2 SIP/2.0\r\nCall-ID: c1\r\n\r\n"


def _chunk(ctype: int, flags: int, body: bytes) -> bytes:
    raw = struct.pack("!BBH", ctype, flags, 4 + len(body)) + body
    return raw + b"\0" * (-len(raw) % 4)  # padded to 4, the length field says unpadded


def _data(tsn: int, user: bytes, *, b: bool = True, e: bool = True, stream: int = 1) -> bytes:
    flags = (2 if b else 0) | (1 if e else 0)
    return _chunk(0, flags, struct.pack("!IHHI", tsn, stream, 0, 0) + user)


def _packet(*chunks: bytes, sport: int = 5060, dport: int = 5060) -> bytes:
    return struct.pack("!HHII", sport, dport, 0x1234, 0) + b"".join(chunks)


def _reasm(budget: ReassemblyBudget | None = None) -> tuple[SctpReassembler, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    return SctpReassembler(diags.append, ReassemblyBudget() if budget is None else budget), diags


def _feed(r: SctpReassembler, pkt: bytes, frame: int, src: str = SRC) -> list[Payload]:
    return r.packet(src, DST, pkt, 0, len(pkt), frame, frame * 1000)


def test_several_chunks_per_packet_padding_and_control_chunks() -> None:
    r, diags = _reasm()
    odd = MSG + b"x"  # 5 bytes of padding after it
    sack = _chunk(3, 0, b"\0" * 12)
    out = _feed(r, _packet(sack, _data(1, odd), _data(2, MSG, stream=2)), 3)
    assert [p.data for p in out] == [odd, MSG]
    p = out[0]
    assert (p.frame, p.transport, p.src.ip, p.src.port, p.dst.port) == (
        3,
        Transport.SCTP,
        SRC,
        5060,
        5060,
    )
    assert diags == [] and r.chunks == 2 and r.messages == 2


def test_fragments_out_of_order_reassembled_by_tsn_per_stream() -> None:
    r, diags = _reasm()
    a, b, c = MSG[:10], MSG[10:30], MSG[30:]
    other = b"MESSAGE sip:y SIP/2.0\r\n\r\n"
    # E piece first, then another stream's pieces interleaved, then B, then the middle
    assert _feed(r, _packet(_data(12, c, b=False, e=True)), 1) == []
    assert _feed(r, _packet(_data(20, other[:5], e=False, stream=7)), 2) == []
    assert _feed(r, _packet(_data(10, a, b=True, e=False)), 3) == []
    out = _feed(r, _packet(_data(11, b, b=False, e=False)), 4)
    assert [(p.frame, p.data) for p in out] == [(4, MSG)]
    out = _feed(r, _packet(_data(21, other[5:], b=False, stream=7)), 5)
    assert [p.data for p in out] == [other]
    r.flush()
    assert diags == []


def test_retransmitted_pieces_and_whole_messages_delivered_once() -> None:
    r, diags = _reasm()
    first = _packet(_data(1, MSG[:20], e=False))
    assert _feed(r, first, 1) == []
    assert _feed(r, first, 2) == []  # the B piece again
    assert [p.data for p in _feed(r, _packet(_data(2, MSG[20:], b=False)), 3)] == [MSG]
    assert _feed(r, _packet(_data(2, MSG[20:], b=False)), 4) == []  # the E piece again
    whole = _packet(_data(3, MSG))
    assert len(_feed(r, whole, 5)) == 1 and _feed(r, whole, 6) == []
    # the same TSN in the other direction is another message
    assert len(_feed(r, whole, 7, src="127.0.0.9")) == 1
    r.flush()
    assert diags == []


def test_tsn_wraps_around() -> None:
    r, diags = _reasm()
    _feed(r, _packet(_data(0xFFFFFFFF, MSG[:15], e=False)), 1)
    out = _feed(r, _packet(_data(0, MSG[15:], b=False)), 2)
    assert [p.data for p in out] == [MSG] and diags == []


def test_truncated_at_every_byte_never_crashes_one_diagnostic_at_most() -> None:
    one, two = _data(1, MSG), _data(2, MSG + b"!", stream=3)
    whole = _packet(one, two)
    # a chunk is kept once its unpadded length is in the packet
    first_end = 12 + 16 + len(MSG)
    second_end = 12 + len(one) + 16 + len(MSG) + 1
    for cut in range(len(whole) + 1):
        r, diags = _reasm()
        out = _feed(r, whole[:cut], 40)
        r.flush()
        assert len(diags) <= 1, (cut, [d.detail for d in diags])
        assert all((d.frame, d.stage, d.trigger) == (40, Stage.DECODE, Trigger.SCTP) for d in diags)
        expected = [MSG] * (cut >= first_end) + [MSG + b"!"] * (cut >= second_end)
        assert [p.data for p in out] == expected, cut
        if cut < 12:
            assert "common header truncated" in diags[0].detail
        if cut >= second_end:
            assert diags == [], cut


def test_lying_lengths_are_reported_with_the_frame() -> None:
    cases = {
        "zero length": _packet(b"\x00\x03\x00\x00" + b"\0" * 16),
        "length past the end": _packet(struct.pack("!BBH", 0, 3, 4000) + b"\0" * 20),
        "DATA shorter than its header": _packet(struct.pack("!BBH", 0, 3, 8) + b"\0" * 4),
    }
    for name, pkt in cases.items():
        r, diags = _reasm()
        assert _feed(r, pkt, 77) == [], name
        assert [(d.frame, d.trigger) for d in diags] == [(77, Trigger.SCTP)], name


def test_pieces_per_direction_are_bounded() -> None:
    r, diags = _reasm()
    for i in range(MAX_PIECES + 1):  # B piece, then middles; the E piece never comes
        _feed(r, _packet(_data(100 + i, b"x" * 8, b=(i == 0), e=False)), i + 1)
    assert len(diags) == 1 and "dropped" in diags[0].detail
    assert diags[0].frame == MAX_PIECES + 1 and r.dropped == 1
    r.flush()
    assert len(diags) == 1  # nothing left waiting


def test_shared_budget_evicts_with_a_diagnostic() -> None:
    budget = ReassemblyBudget(limit=3 * (1000 + FRAGMENT_COST))
    r, diags = _reasm(budget)
    for i in range(6):  # six streams, each with a first piece that never completes
        _feed(r, _packet(_data(10 * i, b"y" * 1000, e=False, stream=i)), i + 1)
    # room for three: the three least recently grown are dropped, each said once
    assert len(diags) == 3 and all("reassembly memory is full" in d.detail for d in diags)
    assert [d.frame for d in diags] == [4, 5, 6]  # the frame that made room necessary
    assert budget.evictions == 3 and budget.used <= budget.limit
    r.flush()
    assert [d.detail.startswith("capture ended inside") for d in diags[3:]] == [True] * 3
    assert budget.used == 0


def test_idata_whole_messages_are_delivered_and_pieces_reported() -> None:
    import struct as _s

    from sipsniff.decode.budget import ReassemblyBudget
    from sipsniff.decode.sctp import SctpReassembler

    diags: list[object] = []
    r = SctpReassembler(diags.append, ReassemblyBudget())
    body = b"OPTIONS sip:x SIP/2.0\r\n\r\n"

    def idata(flags: int, data: bytes) -> bytes:
        chunk = _s.pack("!BBHIHHII", 64, flags, 20 + len(data), 1, 0, 0, 0, 0) + data
        return chunk + b"\0" * (-len(chunk) % 4)

    pkt = _s.pack("!HHII", 5060, 5060, 0, 0) + idata(3, body) + idata(2, b"INVITE")
    out = r.packet("127.0.0.1", "127.0.0.2", pkt, 0, len(pkt), 3, 0)
    assert [p.data for p in out] == [body]
    assert [(d.frame, d.trigger.value) for d in diags] == [(3, "sctp")]  # type: ignore[attr-defined]
