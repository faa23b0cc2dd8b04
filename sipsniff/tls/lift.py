"""The TLS lift: TCP streams that start with a TLS handshake in, plaintext out.

Strategy: a pipeline lift (``Pipeline.lifts``) sees every TCP payload.  A
stream direction whose first bytes are a TLS handshake record (any port) is
taken: its bytes go through a ``RecordReader``, the hellos give the randoms,
version and suite, the key source gives the secrets, and application data
leaves as ``Payload(transport=TLS)`` with the same stream index, the frame of
the TCP piece that completed the record, and the TCP ``gap``/``end`` flags,
so SIP framing treats it as the stream it was.

Pairing the two directions: the TCP reassembler numbers each direction, and a
connection's two directions are the two streams with swapped addresses; the
direction seen second (the server's ServerHello) finds the first one by its
reversed address pair, while that one is still open.

Rules (never show what was not verified, never drop silently):
- A suite that is not AEAD, no secrets, a failed tag, a TCP gap or a damaged
  record: one ``tls`` diagnostic for the connection, the rest of it is consumed
  and counted, never shown.
- Counters (``counts``): connections, records, and how the connections ended up
  (decrypted, without keys, refused suite, failed).
- A secret missing from a key log *file* may still come: a live peer logs each
  secret as it derives it, often after its peer's first encrypted record was
  captured.  So the records wait (at most ``MAX_WAITING_RECORDS`` a connection)
  and are read again with the next piece of that connection; at its end, or
  past the bound, the secret is missing for good (the diagnostic names the first
  record that waited, so a file run reports the same frame as without waiting).
- Memory: ``MAX_TLS_DIRECTIONS`` directions are followed at once (the least
  recently active is dropped, with a diagnostic); each holds at most one record
  and ``MAX_HANDSHAKE`` bytes of handshake messages.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Final

from cryptography.exceptions import InvalidTag

from ..decode.payload import Endpoint, Payload, Transport
from ..diagnostics import DecodeError, Diagnostic, Stage, Trigger
from . import handshake as hs
from .decrypt import (
    SUITES,
    TLS13,
    RecordKeys,
    Suite,
    next_secret,
    suite_name,
    tls12_keys,
    tls13_keys,
)
from .keylog import (
    CLIENT_HANDSHAKE,
    CLIENT_RANDOM,
    CLIENT_TRAFFIC,
    SERVER_HANDSHAKE,
    SERVER_TRAFFIC,
)
from .keys import KeySource
from .records import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    Record,
    RecordReader,
    looks_like_tls,
)

__all__ = ["KEY_HINT", "MAX_HANDSHAKE", "MAX_TLS_DIRECTIONS", "MAX_WAITING_RECORDS", "TlsLift"]

# Same bound as the TCP reassembler's flow table (decode.tcp.MAX_TCP_FLOWS).
MAX_TLS_DIRECTIONS: Final = 65_536
# Streams remembered as not TLS (decided on their first bytes).
_MAX_PLAIN: Final = 65_536
# Handshake bytes held per direction: a certificate chain is a few KiB, rarely
# 30; 256 KiB is the SIP framer's own message bound.
MAX_HANDSHAKE: Final = 256 * 1024

KEY_HINT: Final = (
    "give the key log with --tls-keylog FILE (peers write it when SSLKEYLOGFILE is set; "
    "Kamailio/OpenSIPS tls modules have a key log option), or embed it in the capture "
    "with editcap --inject-secrets tls,keys.txt"
)

_TCP: Final = Transport.TCP
# Records of one connection held while its secret is not in the key log yet: a
# live peer logs it within a round trip, a few records at most.
MAX_WAITING_RECORDS: Final = 64
_Held = tuple[Record, int, int]
"""A record with the frame and time of the piece that completed it."""


class _Wait(Exception):
    """A secret is missing now but may be logged soon: hold the record."""


# Connection outcomes, as counted.
_OPEN, _DECRYPTED, _NO_KEYS, _REFUSED, _FAILED = "open", "decrypted", "no_keys", "refused", "failed"


class _Conn:
    __slots__ = (
        "client_random",
        "dirs",
        "keys12",
        "outcome",
        "server",
        "suite",
        "version",
    )

    def __init__(self) -> None:
        self.client_random = b""
        self.server: hs.ServerHello | None = None
        self.suite: Suite | None = None
        self.version = 0
        self.outcome = _OPEN
        self.keys12: tuple[RecordKeys, RecordKeys] | None = None
        self.dirs: list[_Dir] = []


class _Dir:
    __slots__ = (
        "client",
        "conn",
        "dead",
        "dst",
        "encrypted",
        "hs",
        "keys",
        "reader",
        "secret",
        "shown",
        "src",
        "stream",
        "traffic",
        "waiting",
    )

    def __init__(self, stream: int, src: Endpoint, dst: Endpoint, conn: _Conn) -> None:
        self.stream = stream
        self.src = src
        self.dst = dst
        self.conn = conn
        self.reader = RecordReader()
        self.hs = bytearray()
        """Handshake messages not yet complete (plaintext or decrypted)."""
        self.client: bool | None = None
        self.encrypted = False
        """TLS 1.2: a ChangeCipherSpec was sent; later records are protected."""
        self.keys: RecordKeys | None = None
        self.secret = b""
        """TLS 1.3: the traffic secret ``keys`` come from (a KeyUpdate derives the next)."""
        self.traffic = False
        self.shown = False
        self.dead = False
        self.waiting: list[_Held] = []
        """Records held until a secret appears in a growing key log (live capture)."""
        """Record boundaries lost (a TCP gap, a damaged header): bytes are not read any more."""
        """Plaintext left this direction: its end must reach SIP framing too."""
        """TLS 1.3: application keys in use (after this direction's Finished)."""


class TlsLift:
    """A ``Pipeline`` lift that decrypts TLS with a key log (see the module notes)."""

    def __init__(self, report: Callable[[Diagnostic], None], keys: KeySource) -> None:
        self._report = report
        self._keys = keys
        self._dirs: OrderedDict[int, _Dir] = OrderedDict()
        self._by_addr: dict[tuple[Endpoint, Endpoint], _Dir] = {}
        self._plain: OrderedDict[int, None] = OrderedDict()
        self.connections: Counter[str] = Counter()
        """Connections by outcome (``_OPEN`` until one is known)."""
        self.records = 0
        self._final = False
        """Retrying held records for the last time: a missing secret is reported."""

    def counts(self) -> dict[str, int]:
        """The summary's TLS counters (all zero for a capture without TLS)."""
        c = self.connections
        total = sum(c.values())
        if not total:
            return {}
        return {
            "connections": total,
            "records": self.records,
            "decrypted": c[_DECRYPTED],
            "without_keys": c[_NO_KEYS] + c[_OPEN],
            "refused_suite": c[_REFUSED],
            "failed": c[_FAILED],
        }

    def __call__(self, p: Payload) -> list[Payload] | None:
        if p.transport is not _TCP:  # identity: this runs on every payload
            return None
        d = self._dirs.get(p.stream)
        if d is None:
            if p.stream in self._plain:
                return None
            d = self._start(p)
            if d is None:
                return None
        else:
            self._dirs.move_to_end(p.stream)
        out: list[Payload] = []
        conn = d.conn
        for o in conn.dirs:
            if o.waiting:  # a live peer may have logged the missing secret meanwhile
                self._retry(o, out)
        if p.gap and not d.dead:
            d.dead = True  # record boundaries are lost with the bytes
            self._fail(d, p.frame, _FAILED, "bytes never captured (TCP gap); rest not decrypted")
        if p.data and not d.dead and conn.outcome != _FAILED:
            try:
                records = d.reader.feed(p.data)
            except DecodeError as exc:
                records = []
                d.dead = True
                self._fail(d, p.frame, _FAILED, f"{exc}; rest not decrypted")
            self.records += len(records)
            if records:
                self._run(d, [(r, p.frame, p.ts_ns) for r in records], out)
        if p.end:
            if d.waiting:
                self._retry(d, out, final=True)
            self._end(d)
            if d.shown:
                out.append(
                    Payload(
                        p.frame, p.ts_ns, p.src, p.dst, Transport.TLS, b"", p.stream, False, True
                    )
                )
        return out

    def _run(self, d: _Dir, items: list[_Held], out: list[Payload]) -> None:
        """Read records in order; from the first that waits for a secret on, hold them."""
        for k, (rec, frame, ts) in enumerate(items):
            if d.conn.outcome not in (_OPEN, _DECRYPTED):
                return  # counted, not read
            if d.waiting:
                d.waiting.extend(items[k:])
                break
            plain: list[bytes] = []
            try:
                self._record(d, rec.type, rec.version, rec.header, rec.fragment, frame, plain)
            except _Wait:
                d.waiting.extend(items[k:])
                break
            except InvalidTag:
                self._fail(
                    d,
                    frame,
                    _FAILED,
                    "a record does not verify (wrong keys in the key log?); "
                    "rest of the connection skipped",
                )
            except DecodeError as exc:
                self._fail(d, frame, _FAILED, f"{exc}; rest of the connection skipped")
            if plain:
                d.shown = True
                out.append(
                    Payload(frame, ts, d.src, d.dst, Transport.TLS, b"".join(plain), d.stream)
                )
        if sum(len(o.waiting) for o in d.conn.dirs) > MAX_WAITING_RECORDS:
            self._retry(d, out, final=True)

    def _retry(self, d: _Dir, out: list[Payload], *, final: bool = False) -> None:
        """Read the held records again (``final``: a secret still missing is missing)."""
        items, d.waiting = d.waiting, []
        self._final = final
        try:
            self._run(d, items, out)
        finally:
            self._final = False

    # -- connections -------------------------------------------------------
    def _start(self, p: Payload) -> _Dir | None:
        if p.stream in self._plain:
            return None
        if not p.data:
            return None
        if p.gap or not looks_like_tls(p.data):
            self._plain[p.stream] = None
            if len(self._plain) > _MAX_PLAIN:
                self._plain.popitem(last=False)
            return None
        peer = self._by_addr.get((p.dst, p.src))
        if peer is not None and len(peer.conn.dirs) == 1:
            conn = peer.conn
        else:
            conn = _Conn()
            self.connections[_OPEN] += 1
        d = _Dir(p.stream, p.src, p.dst, conn)
        conn.dirs.append(d)
        self._dirs[p.stream] = d
        self._by_addr[(p.src, p.dst)] = d
        if len(self._dirs) > MAX_TLS_DIRECTIONS:
            _, old = self._dirs.popitem(last=False)
            self._fail(old, p.frame, _FAILED, "too many open TLS streams; oldest dropped")
            self._end(old)
        return d

    def _end(self, d: _Dir) -> None:
        self._dirs.pop(d.stream, None)
        if self._by_addr.get((d.src, d.dst)) is d:
            del self._by_addr[(d.src, d.dst)]

    def _outcome(self, conn: _Conn, outcome: str) -> None:
        if conn.outcome == outcome:
            return
        self.connections[conn.outcome] -= 1
        self.connections[outcome] += 1
        conn.outcome = outcome

    def _fail(self, d: _Dir, frame: int, outcome: str, why: str) -> None:
        """The connection's one diagnostic (none after an earlier one: already said)."""
        conn = d.conn
        if conn.outcome not in (_OPEN, _DECRYPTED):
            return
        self._outcome(conn, outcome)
        self._report(
            Diagnostic(
                frame=frame,
                stage=Stage.DECODE,
                trigger=Trigger.TLS,
                detail=f"TLS {d.src} -> {d.dst}: {why}",
            )
        )

    # -- records -----------------------------------------------------------
    def _record(
        self,
        d: _Dir,
        ctype: int,
        version: int,
        header: bytes,
        frag: bytes,
        frame: int,
        out: list[bytes],
    ) -> None:
        conn = d.conn
        if conn.version == TLS13:
            if ctype == APPLICATION_DATA:
                keys = d.keys or self._keys13(d, frame)
                if keys is None:
                    return
                inner, body = keys.open13(header, frag)
                if inner == APPLICATION_DATA:
                    out.append(body)
                elif inner == HANDSHAKE:
                    self._handshake(d, body, frame, protected=True)
            elif ctype == HANDSHAKE:
                self._handshake(d, frag, frame, protected=False)
            return  # compatibility ChangeCipherSpec, plaintext alerts
        if ctype == CHANGE_CIPHER_SPEC:
            # after a HelloRetryRequest a 1.3 client sends one before any ServerHello
            d.encrypted = conn.server is not None
            return
        if d.encrypted:
            keys = d.keys or self._keys12(d, frame)
            if keys is None:
                return
            body = keys.open12(ctype, version, frag)
            if ctype == APPLICATION_DATA:
                out.append(body)
            return  # Finished, encrypted alerts: verified, not shown
        if ctype == HANDSHAKE:
            self._handshake(d, frag, frame, protected=False)
        elif ctype not in (ALERT,):
            self._fail(
                d,
                frame,
                _FAILED,
                f"record type {ctype} before the handshake set keys "
                "(TLS 1.3 early data is not decrypted)",
            )

    def _handshake(self, d: _Dir, data: bytes, frame: int, *, protected: bool) -> None:
        buf = d.hs
        buf += data
        if len(buf) > MAX_HANDSHAKE:
            raise DecodeError(f"handshake message over {MAX_HANDSHAKE} bytes")
        while len(buf) >= 4:
            length = int.from_bytes(buf[1:4], "big")
            if len(buf) < 4 + length:
                return
            mtype, body = buf[0], bytes(buf[4 : 4 + length])
            del buf[: 4 + length]
            if protected:
                self._protected_message(d, mtype, body, frame)
            else:
                self._hello(d, mtype, body, frame)

    def _hello(self, d: _Dir, mtype: int, body: bytes, frame: int) -> None:
        conn = d.conn
        if mtype == hs.CLIENT_HELLO:
            d.client = True
            if not conn.client_random:
                conn.client_random = hs.client_random(body)
        elif mtype == hs.SERVER_HELLO:
            d.client = False
            sh = hs.parse_server_hello(body)
            if sh.random == hs.HRR_RANDOM:
                return  # HelloRetryRequest: the real ServerHello follows
            conn.server = sh
            conn.version = sh.version
            suite = SUITES.get(sh.suite)
            if suite is None or suite.tls13 != (sh.version == TLS13):
                self._fail(
                    d,
                    frame,
                    _REFUSED,
                    f"cipher suite {suite_name(sh.suite)} not decrypted (only AEAD suites "
                    "can prove their plaintext: AES-GCM, ChaCha20-Poly1305); "
                    "connection not shown",
                )
                return
            conn.suite = suite

    def _protected_message(self, d: _Dir, mtype: int, body: bytes, frame: int) -> None:
        """TLS 1.3 handshake messages under encryption: Finished and KeyUpdate move keys."""
        suite = d.conn.suite
        assert suite is not None
        if mtype == hs.FINISHED and not d.traffic:
            d.traffic = True
            d.keys = None  # the next record derives them (it may have to wait for the secret)
        elif mtype == hs.KEY_UPDATE and d.traffic:
            d.secret = next_secret(suite, d.secret)
            d.keys = tls13_keys(suite, d.secret)

    # -- keys --------------------------------------------------------------
    def _secret(self, d: _Dir, frame: int, label: str) -> bytes | None:
        """A secret of ``d``'s connection, or None after the one no-keys diagnostic."""
        conn = d.conn
        if conn.suite is None or conn.server is None or not conn.client_random:
            self._fail(d, frame, _FAILED, "encrypted records before both hellos were seen")
            return None
        found = self._keys.secret(conn.client_random, label)
        if found is None and self._keys.growable and not self._final:
            raise _Wait  # the record waits: a live peer logs each secret as it derives it
        if found is None:
            if not self._keys.configured:
                why = f"not decrypted: no key log ({KEY_HINT})"
            else:
                why = (
                    f"not decrypted: no {label} for client random "
                    f"{conn.client_random.hex()} in the key log"
                )
            self._fail(d, frame, _NO_KEYS, why)
            return None
        self._outcome(conn, _DECRYPTED)
        return found

    def _keys12(self, d: _Dir, frame: int) -> RecordKeys | None:
        conn = d.conn
        if conn.keys12 is None:
            master = self._secret(d, frame, CLIENT_RANDOM)
            if master is None or conn.suite is None or conn.server is None:
                return None
            conn.keys12 = tls12_keys(conn.suite, master, conn.client_random, conn.server.random)
        d.keys = conn.keys12[0] if d.client else conn.keys12[1]
        return d.keys

    def _keys13(self, d: _Dir, frame: int) -> RecordKeys | None:
        conn = d.conn
        if d.client is None:
            # the client sent its ClientHello in this direction; the server its ServerHello
            d.client = any(o is not d and o.client is False for o in conn.dirs)
        if d.traffic:
            label = CLIENT_TRAFFIC if d.client else SERVER_TRAFFIC
        else:
            label = CLIENT_HANDSHAKE if d.client else SERVER_HANDSHAKE
        secret = self._secret(d, frame, label)
        if secret is None or conn.suite is None:
            return None
        d.secret = secret
        d.keys = tls13_keys(conn.suite, secret)
        return d.keys
