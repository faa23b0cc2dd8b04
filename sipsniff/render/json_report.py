"""JSON document and NDJSON stream of an analysis (schema: ``sipsniff/schema/analysis.schema.json``).

Strategy: the document is written *streaming*.  Messages and calls arrive call
by call as the pipeline finishes them; each is serialised at once into a
spool file (memory up to a few MB, then disk), and only ``(sort key, offset,
length)`` is kept, so a capture of millions of messages never sits in memory.
``close`` writes the document with messages in frame order and calls in start
order.  NDJSON skips the spool: one line per call as it finishes.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import json
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from .. import __version__
from ..analysis import AnalyzedCall, Stats, ranked
from ..annotate.annotation import Annotation
from ..annotate.knowledge import lookup
from ..diagnostics import Diagnostic
from ..dialogs.call import Call
from ..sip.message import SipMessage
from .safe import json_inert

__all__ = [
    "SCHEMA_VERSION",
    "JsonWriter",
    "NdjsonWriter",
    "SpoolPart",
    "SpoolWriter",
    "annotation_json",
    "call_json",
    "iso_time",
    "message_json",
    "ndjson_call",
    "summary_json",
]

SCHEMA_VERSION = "1.0"
_SPOOL_MEMORY = 1024 * 1024


def iso_time(ts_ns: int) -> str:
    """UTC ISO 8601 with microseconds, as shown everywhere in sipsniff."""
    return _dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.UTC).isoformat(timespec="microseconds")


def _explain(code: int) -> dict[str, Any]:
    info = lookup(code)
    return {
        "code": code,
        "reason": info.reason,
        "class": info.class_name,
        "rfc": info.rfc,
        "severity": str(info.severity),
        "meaning": info.meaning,
        "causes": list(info.causes),
        "resolution": list(info.resolution),
        "registered": info.registered,
    }


def message_json(m: SipMessage, retransmission: bool = False) -> dict[str, Any]:
    """One message as the schema's ``message`` object."""
    d: dict[str, Any] = {
        "frame": m.frame,
        "time": iso_time(m.ts_ns),
        "epoch": m.ts_ns / 1e9,
        "src": str(m.src),
        "dst": str(m.dst),
        "transport": m.transport,
    }
    if m.status:
        d["status"] = m.status
        d["reason"] = m.reason
    else:
        d["method"] = m.method
        d["uri"] = m.uri
    d["cseq"] = f"{m.cseq_num} {m.cseq_method}".strip()
    d["call_id"] = m.call_id
    d["retransmission"] = retransmission
    if m.sdp is not None:
        d["sdp"] = {
            "origin": m.sdp.origin_addr,
            "connection": m.sdp.connection,
            "media": [
                {
                    "type": md.kind,
                    "port": md.port,
                    "proto": md.proto,
                    "address": md.connection,
                    "codecs": list(md.codecs),
                    "direction": md.direction,
                }
                for md in m.sdp.media
            ],
        }
    if m.problems:
        d["problems"] = list(m.problems)
    if m.status >= 400:
        d["explanation"] = _explain(m.status)
    return d


def annotation_json(a: Annotation) -> dict[str, Any]:
    return {
        "rule": a.rule,
        "severity": str(a.severity),
        "title": a.title,
        "cause": a.cause,
        "resolution": list(a.resolution),
        "frames": list(a.frames),
        "details": dict(a.details),
    }


def call_json(ac: AnalyzedCall, extra: Iterable[Annotation] = ()) -> dict[str, Any]:
    """One call as the schema's ``call`` object (messages referenced by frame)."""
    c: Call = ac.call
    t = c.timings
    return {
        "call_id": c.call_id,
        "kind": c.kind.value,
        "state": c.state.value,
        "final_status": c.final_status or None,
        "from": c.from_uri,
        "to": c.to_uri,
        "from_user": c.from_user,
        "to_user": c.to_user,
        "start": iso_time(c.start_ns),
        "end": iso_time(c.end_ns),
        "timings": {
            "first_provisional_ms": t.first_provisional,
            "post_dial_delay_ms": t.post_dial_delay,
            "setup_ms": t.setup,
            "duration_ms": t.duration,
            "teardown_ms": t.teardown,
        },
        "ended_by": c.ended_by or None,
        "frames": [m.frame for m in c.messages],
        "message_count": c.message_count,
        "retransmissions": len(c.retransmissions),
        "capture_duplicates": c.capture_duplicates,
        "evicted": c.evicted,
        "annotations": [annotation_json(a) for a in (*ac.annotations, *extra)],
    }


def summary_json(st: Stats) -> dict[str, Any]:
    return {
        "sources": st.sources,
        "frames": st.frames,
        "bytes": st.bytes,
        "skipped_frames": st.skipped,
        "skipped_by_reason": dict(sorted(st.skipped_by_reason.items())),
        "layers": dict(sorted(st.layers.items())),
        "not_sip_payloads": st.not_sip,
        "sip_messages": st.sip_messages,
        "malformed_messages": st.malformed,
        "retransmissions": st.retransmissions,
        "capture_duplicates": st.capture_duplicates,
        "tls": dict(st.tls),
        "methods": dict(ranked(st.methods)),
        "statuses": {str(k): v for k, v in sorted(st.statuses.items())},
        "calls": st.calls,
        "calls_by_kind": dict(ranked(st.calls_by_kind)),
        "calls_by_state": dict(ranked(st.calls_by_state)),
        "annotations_by_rule": dict(ranked(st.annotations_by_rule)),
        "annotations_by_severity": dict(ranked(st.annotations_by_severity)),
        "diagnostics_by_trigger": dict(ranked(st.diagnostics_by_trigger)),
        "evicted_calls": st.evicted_calls,
        "first_time": iso_time(st.first_ts_ns) if st.first_ts_ns else None,
        "last_time": iso_time(st.last_ts_ns) if st.last_ts_ns else None,
    }


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "frame": d.frame,
        "stage": d.stage.value,
        "trigger": d.trigger.value,
        "detail": d.detail,
    }


def _dumps(obj: Any) -> str:
    return json_inert(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


class _Index:
    """Sort keys and spool positions in flat 64-bit arrays: 32 bytes an entry, so an
    index of millions of messages stays a few tens of MB (a list of tuples is ~8x).

    Entries sort by ``(key, tie)``: messages by frame, calls by start time then
    first frame, an order that does not depend on which shard spooled them.
    """

    def __init__(self) -> None:
        self.keys = array("q")
        self.ties = array("q")
        self.pos = array("q")
        self.len = array("q")

    def add(self, key: int, pos: int, ln: int, tie: int = 0) -> None:
        self.keys.append(key)
        self.ties.append(tie)
        self.pos.append(pos)
        self.len.append(ln)

    def order(self) -> Iterator[int]:
        """Entry numbers by ``(key, tie)``, then insertion order.

        Frame numbers are dense, so they are bucketed in two flat arrays (8 bytes
        a frame, no Python object per entry); sparse keys (call start times, a
        few per call) use an ordinary stable sort.
        """
        keys = self.keys
        n = len(keys)
        if not n:
            return
        top = max(keys)
        if min(keys) < 0 or top > 4 * n + 65_536 or any(self.ties):
            ties = self.ties
            yield from sorted(range(n), key=lambda i: (keys[i], ties[i]))
            return
        head = array("q", [-1]) * (top + 1)
        nxt = array("q", [-1]) * n
        for i in range(n - 1, -1, -1):
            k = keys[i]
            nxt[i] = head[k]
            head[k] = i
        for k in range(top + 1):
            i = head[k]
            while i >= 0:
                yield i
                i = nxt[i]


_CALL_ID_AT = len('{"call_id":')
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class SpoolPart:
    """One shard's serialised calls: a spool file and where each entry sits in it."""

    path: str
    ndjson: bool
    messages: _Index
    calls: _Index


class SpoolWriter:
    """Serialises finished calls into a spool file, to be adopted by a writer later.

    Shards of a parallel analysis (``shards``) each fill one; the parent's
    ``JsonWriter`` merges them by frame and start time, an ``NdjsonWriter``
    copies their lines.
    """

    def __init__(self, directory: str | None = None, *, ndjson: bool = False) -> None:
        self._path = ""
        self._file: IO[bytes]
        if directory is None:  # private to one writer: memory first, then an anonymous file
            self._file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115
        else:
            fd, self._path = tempfile.mkstemp(dir=directory, suffix=".spool")
            self._file = os.fdopen(fd, "w+b")
        self._ndjson = ndjson
        self.messages = _Index()
        self.calls = _Index()
        self._pos = 0

    def _put(self, text: str) -> tuple[int, int]:
        data = text.encode("utf-8", "surrogatepass")
        pos = self._pos
        self._file.write(data)
        self._pos += len(data)
        return pos, len(data)

    def add(self, ac: AnalyzedCall, extra: Iterable[Annotation] = ()) -> None:
        """Spool one finished call and its messages."""
        if self._ndjson:
            self._put(ndjson_call(ac, extra))
            return
        c = ac.call
        for i, m in enumerate(c.messages):
            self.messages.add(m.frame, *self._put(_dumps(message_json(m, i in c.retransmissions))))
        first = c.messages[0].frame if c.messages else 0
        self.calls.add(c.start_ns, *self._put(_dumps(call_json(ac, extra))), first)

    @property
    def file(self) -> IO[bytes]:
        """The spool, readable (``JsonWriter`` copies from it)."""
        return self._file

    def part(self) -> SpoolPart:
        """Close the spool and describe it, for a writer in another process."""
        self._file.close()
        return SpoolPart(self._path, self._ndjson, self.messages, self.calls)


class JsonWriter:
    """Streams calls into a spool, then writes one JSON document (see module doc)."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        # Binary spool: offsets are byte counts, whatever characters the wire sent.
        self._own = SpoolWriter()
        self._parts: list[SpoolPart] = []

    def add(self, ac: AnalyzedCall, extra: Iterable[Annotation] = ()) -> None:
        """Spool one finished call and its messages."""
        self._own.add(ac, extra)

    def adopt(self, part: SpoolPart) -> None:
        """Include calls another ``SpoolWriter`` spooled (merged in order at ``close``)."""
        self._parts.append(part)

    def _copy(
        self,
        which: str,
        spools: list[tuple[IO[bytes], _Index]],
        late: dict[str, list[Annotation]] | None = None,
    ) -> None:
        out = self._out

        def entries(k: int) -> Iterator[tuple[int, int, int, int]]:
            index = spools[k][1]
            for n in index.order():
                yield index.keys[n], index.ties[n], k, n

        merged = heapq.merge(*(entries(k) for k in range(len(spools))))
        for i, (_key, _tie, k, n) in enumerate(merged):
            sp, index = spools[k]
            sp.seek(index.pos[n])
            text = sp.read(index.len[n]).decode("utf-8", "surrogatepass")
            # call objects start with their Call-ID, so only those concerned are re-parsed
            if late and which == "calls" and _DECODER.raw_decode(text, _CALL_ID_AT)[0] in late:
                obj = json.loads(text)
                frames = set(obj["frames"])
                extra = [
                    annotation_json(a)
                    for a in late[obj["call_id"]]
                    if not a.frames or a.frames[0] in frames
                ]
                if extra:
                    obj["annotations"].extend(extra)
                    text = _dumps(obj)
            out.write(("\n" if i == 0 else ",\n") + text)

    def close(
        self,
        stats: Stats,
        diagnostics: Iterable[Diagnostic],
        late: dict[str, list[Annotation]] | None = None,
    ) -> None:
        """Write the whole document; ``late`` adds cross-call annotations by Call-ID."""
        out = self._out
        files: list[IO[bytes]] = [open(p.path, "rb") for p in self._parts]  # noqa: SIM115
        try:
            own = self._own
            msgs = [(own.file, own.messages)]
            calls = [(own.file, own.calls)]
            for f, p in zip(files, self._parts, strict=True):
                msgs.append((f, p.messages))
                calls.append((f, p.calls))
            out.write('{"schema_version":' + _dumps(SCHEMA_VERSION))
            out.write(',"generator":' + _dumps(f"sipsniff {__version__}"))
            out.write(',\n"summary":' + _dumps(summary_json(stats)))
            out.write(',\n"messages":[')
            self._copy("messages", msgs)
            out.write('\n],\n"calls":[')
            self._copy("calls", calls, late)
            out.write('\n],\n"diagnostics":[')
            first = True
            for d in diagnostics:
                out.write(("\n" if first else ",\n") + _dumps(diagnostic_json(d)))
                first = False
            out.write("\n]}\n")
        finally:
            for f in files:
                f.close()
            self._own.file.close()


def ndjson_call(ac: AnalyzedCall, extra: Iterable[Annotation] = ()) -> str:
    """One NDJSON line (with its newline): the call and its messages."""
    c = ac.call
    obj = call_json(ac, extra)
    obj["type"] = "call"
    obj["messages"] = [message_json(m, i in c.retransmissions) for i, m in enumerate(c.messages)]
    return _dumps(obj) + "\n"


class NdjsonWriter:
    """One JSON object per line: each call (with its messages) as it finishes, then a summary."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def add(self, ac: AnalyzedCall, extra: Iterable[Annotation] = ()) -> None:
        self._out.write(ndjson_call(ac, extra))

    def adopt(self, part: SpoolPart) -> None:
        """Copy the lines another ``SpoolWriter`` spooled (calls of another shard)."""
        with open(part.path, encoding="utf-8", errors="surrogatepass") as fp:
            for line in fp:
                self._out.write(line)

    def close(
        self,
        stats: Stats,
        diagnostics: Iterable[Diagnostic],
        late: dict[str, list[Annotation]] | None = None,
    ) -> None:
        """Write cross-call annotations (one line per call concerned), then the summary."""
        for call_id, anns in (late or {}).items():
            obj = {"type": "annotations", "call_id": call_id}
            obj["annotations"] = [annotation_json(a) for a in anns]  # type: ignore[assignment]
            self._out.write(_dumps(obj) + "\n")
        summ = summary_json(stats)
        summ["type"] = "summary"
        summ["schema_version"] = SCHEMA_VERSION
        summ["diagnostics"] = [diagnostic_json(d) for d in diagnostics]
        self._out.write(_dumps(summ) + "\n")
