"""The pipeline: frames -> payloads -> SIP messages -> calls -> annotated calls.

Strategy: each stage is a sans-I/O object (``Decoder``, ``SipFramer``,
``DialogTracker``) fed one item at a time, so the file path and the live path
run the same code.  Finished calls leave as soon as the tracker publishes
them, so memory follows the open dialogs, not the capture's size.  Capture
time drives every timer: ``expire`` is called when the capture clock has
advanced by a second.

Only this module and ``cli`` see every layer.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from . import engine
from .analysis import MAX_KEPT_DIAGNOSTICS, Analysis, AnalyzedCall, Stats
from .annotate.annotation import Annotation
from .annotate.rules import ManyCallRule, Rule, all_rules, many_rules, run_many, run_rules
from .capture.frame import Frame
from .capture.sources import FrameSource, read_frames
from .decode.decoder import Decoder
from .decode.payload import Endpoint, Payload, Transport
from .diagnostics import CaptureError, Diagnostic, Stage, Trigger
from .dialogs.call import Call
from .dialogs.tracker import DialogTracker
from .hep.lift import HepLift
from .media import MediaTable
from .sip.framing import SipFramer
from .sip.grammar import START_LINE
from .sip.message import SipMessage, parse_datagram
from .sip.sdp import rtpmap
from .tls import make_lift

__all__ = ["Pipeline", "analyze", "belonging"]

_EXPIRE_EVERY_NS = 1_000_000_000
# Merged or reordered captures step back a little; a big step either way is a
# broken clock (or a crafted file) and makes every timing around it meaningless.
_JUMP_BACK_NS = 10 * 1_000_000_000
_JUMP_FORWARD_NS = 24 * 3600 * 1_000_000_000
# The pipeline makes almost no reference cycles (a whole benchmark capture leaves
# none), yet CPython's cyclic collector, triggered every 700 allocations, kept
# rescanning the open dialogs and cost 18 % of ``analyze``; ``run`` pauses it and
# collects explicitly every this many frames instead, so a cycle made by a plugin
# rule is still reclaimed.
_GC_EVERY_FRAMES = 1 << 20
# Frames handed to the native core per call: enough to make the crossing cheap,
# few enough that progress bars and live output stay smooth.
_NATIVE_BATCH = 512
_new = tuple.__new__

Lift = Callable[[Payload], "list[Payload] | None"]
"""A transport stage between decoding and SIP framing (HEP, TLS...): it takes a
payload it recognises and returns what it carries (possibly nothing yet), or
``None`` for a payload that is not its own, which then goes on unchanged."""


class Pipeline:
    """Chains the stages; feed frames, collect finished annotated calls."""

    def __init__(
        self,
        *,
        rules: Sequence[Rule] | None = None,
        cross_rules: Sequence[ManyCallRule] | None = None,
        on_message: Callable[[SipMessage], None] | None = None,
        on_diagnostic: Callable[[Diagnostic], None] | None = None,
        max_open_dialogs: int | None = None,
        shard: tuple[int, int] | None = None,
        engine_name: str | None = None,
    ) -> None:
        self.stats = Stats()
        self.diagnostics: list[Diagnostic] = []
        self._on_diag = on_diagnostic
        self.shard = shard
        """(index, count) when this pipeline is one shard of a parallel analysis
        (``shards``): every shard reads and decodes every frame, but parses, tracks
        and annotates only the calls whose Call-ID hashes to its index."""
        self._primary = shard is None or shard[0] == 0
        self.source_report: Callable[[Diagnostic], None] = (
            self._report if self._primary else _ignore
        )
        """Where capture and decode problems go: only shard 0 reports what all shards see."""
        self.engine = engine.select(engine_name) if engine_name else engine.selected()
        self.decoder = Decoder(self.source_report)
        self.framer = SipFramer(
            self._report,
            shard,
            budget=self.decoder.budget,  # one allowance for every reassembly buffer
            parse=engine.parse_datagram if self.engine == "native" else parse_datagram,
        )
        self.tracker = DialogTracker(self._report, max_open_dialogs)
        self.rules = list(all_rules() if rules is None else rules)
        self.cross_rules = list(many_rules() if cross_rules is None else cross_rules)
        self._on_message = on_message
        self._next_expire = 0
        self._last_ts = 0
        self._finished = False
        self.late_annotations: dict[str, list[Annotation]] = {}
        """Cross-call annotations by Call-ID, filled by ``finish``."""
        native = engine.native_module() if self.engine == "native" else None
        self._scanner: Any = native.Scanner(shard) if native is not None else None
        self._pulling: list[Frame] | None = None
        self._held: list[tuple[int, Diagnostic]] = []
        self.lifts: list[Lift] = []
        self.media = MediaTable() if self._scanner is None and self._primary else None
        """RTP/RTCP accounting of the Python engine (the native core keeps its own)."""
        """Transport stages tried, in order, on every payload before SIP framing."""
        self.tls = make_lift(self.source_report, lambda: self.stats.sources)
        self.lifts.append(self.tls)
        self.lifts.append(
            HepLift(self.source_report)
        )  # HEP to a collector, any port  # TLS with a key log (``tls``): any port, by content
        """The native core (``engine``): frames go through it first, and only what it
        hands back (odd frames, unclean messages) reaches the Python stages."""

    def _report(self, d: Diagnostic) -> None:
        if self._pulling is not None:
            # a reader's warning while a native batch is gathered: held, and
            # emitted between the same two frames as a frame-by-frame run would
            self._held.append((len(self._pulling), d))
            return
        self.stats.diagnostics_by_trigger[d.trigger.value] += 1
        if len(self.diagnostics) < MAX_KEPT_DIAGNOSTICS:
            self.diagnostics.append(d)
        if self._on_diag is not None:
            self._on_diag(d)

    # -- the hot path ------------------------------------------------------
    def feed(self, frame: Frame) -> list[AnalyzedCall]:
        """Process one frame; return the calls that finished because of it (often none)."""
        if self._scanner is not None:
            return self._native_batch([frame])
        payloads = self.decoder.feed(frame)
        done = self._payloads(payloads) if payloads else []
        ts = frame.ts_ns
        if ts < self._last_ts - _JUMP_BACK_NS or ts > self._last_ts + _JUMP_FORWARD_NS:
            self._time_jump(frame)
        self._last_ts = ts
        if not self.stats.first_ts_ns:
            self.stats.first_ts_ns = ts
        if ts >= self._next_expire:
            if self._next_expire:
                done.extend(self._payloads(self.decoder.expire(ts)))
                done.extend(self.tracker.expire(ts))
            self._next_expire = ts + _EXPIRE_EVERY_NS
        return [self._annotate(c) for c in done] if done else []

    def tick(self, now_ns: int) -> list[AnalyzedCall]:
        """Advance the capture clock without a frame (a live capture on a quiet line)."""
        done = self._payloads(self.decoder.expire(now_ns))
        done.extend(self.tracker.expire(now_ns))
        return [self._annotate(c) for c in done]

    def _payloads(self, payloads: list[Payload]) -> list[Call]:
        """Frame, count and track payloads released outside ``feed`` (expiry, flush)."""
        done: list[Call] = []
        st = self.stats
        if self._primary:
            st.payloads += len(payloads)
        scanner = self._scanner
        lifts = self.lifts
        for p in payloads:
            if lifts:
                inner = self._lift(p)
                if inner is not None:
                    if inner:
                        done.extend(self._payloads(inner))
                    continue
            media = self.media
            if (
                media is not None
                and p.transport == Transport.UDP
                and START_LINE.match(p.data) is None
            ):
                media.datagram(p.frame, p.ts_ns, p.src.ip, p.src.port, p.dst.ip, p.dst.port, p.data)
            if scanner is not None and p.transport == Transport.UDP:
                # the native core owns UDP framing (its SIP-port set, its counters)
                events = scanner.datagram(
                    p.frame, p.ts_ns, p.src.ip, p.src.port, p.dst.ip, p.dst.port, p.data
                )
                self._native_events(events, (), done)
                continue
            for msg in self.framer.feed(p):
                self._message(msg, done)
        return done

    def _lift(self, p: Payload) -> list[Payload] | None:
        """What the first transport stage that owns ``p`` makes of it (``None``: none does)."""
        for lift in self.lifts:
            inner = lift(p)
            if inner is not None:
                return inner
        return None

    def _message(self, msg: SipMessage, done: list[Call]) -> None:
        st = self.stats
        if self.media is not None and msg.sdp is not None:
            for m in msg.sdp.media:
                self.media.announce(m.connection, m.port, rtpmap(m))
        if msg.status:
            st.statuses[msg.status] += 1
        else:
            st.methods[msg.method] += 1
        if self._on_message is not None:
            self._on_message(msg)
        done.extend(self.tracker.feed(msg))

    # -- the native engine -------------------------------------------------
    def _native_batch(self, frames: Sequence[Frame]) -> list[AnalyzedCall]:
        """Frames through the native core; the calls that finished meanwhile."""
        done: list[Call] = []
        self._native_events(self._scanner.feed(frames), frames, done)
        if not self.stats.first_ts_ns and frames:
            self.stats.first_ts_ns = self._scanner.counters()[6]
        return [self._annotate(c) for c in done] if done else []

    def _run_file(self, source: FrameSource, path: Path) -> Iterator[AnalyzedCall]:
        """Read one plain capture file in the native core: only what it hands back
        (SIP, frames it does not decode, warnings) becomes Python objects."""
        reader = engine.open_file(path)
        name = str(path)

        def on_reader(ev: tuple[Any, ...]) -> None:
            source.report(engine.reader_diagnostic(name, ev))

        scan = self._scanner.scan_file
        progress = source.progress
        batches = 0
        try:
            while True:
                try:
                    events, nbytes, nframes, finished = scan(reader, _NATIVE_BATCH)
                except OSError as exc:
                    raise CaptureError(f"{path}: read error: {exc.strerror or exc}") from exc
                done: list[Call] = []
                self._native_events(events, (), done, on_reader)
                if not self.stats.first_ts_ns and nframes:
                    self.stats.first_ts_ns = self._scanner.counters()[6]
                if done:
                    yield from [self._annotate(c) for c in done]
                if progress is not None:
                    progress.update(nbytes, nframes)
                batches += 1
                if batches & ((_GC_EVERY_FRAMES // _NATIVE_BATCH) - 1) == 0:
                    gc.collect()
                if finished:
                    return
        finally:
            if progress is not None:
                progress.close()

    def _batches(
        self, frames: Iterable[Frame]
    ) -> Iterator[tuple[list[Frame], list[tuple[int, Diagnostic]]]]:
        """Batches of frames, each with the reader warnings raised while gathering it."""
        it = iter(frames)
        while True:
            batch: list[Frame] = []
            self._pulling, self._held = batch, []
            failed: BaseException | None = None
            try:
                batch.extend(islice(it, _NATIVE_BATCH))
            except BaseException as exc:  # noqa: BLE001 - re-raised once the batch is done
                failed = exc
            finally:
                self._pulling = None
            if batch or self._held:
                yield batch, self._held
            if failed is not None:
                raise failed
            if not batch:
                return

    def _native_held(
        self, batch: list[Frame], held: list[tuple[int, Diagnostic]]
    ) -> list[AnalyzedCall]:
        """A batch, with each held warning reported after the frames read before it."""
        if not held:
            return self._native_batch(batch)
        out: list[AnalyzedCall] = []
        pos = 0
        for at, d in held:
            if at > pos:
                out.extend(self._native_batch(batch[pos:at]))
                pos = at
            self._report(d)
        out.extend(self._native_batch(batch[pos:]))
        return out

    def _native_events(
        self,
        events: Iterable[tuple[Any, ...]],
        frames: Sequence[Frame],
        done: list[Call],
        reader: Callable[[tuple[Any, ...]], None] | None = None,
    ) -> None:
        """Act on the core's events in order, exactly where ``feed`` would have.

        ``frames`` is the batch a ``Slow`` event indexes; ``reader`` takes the native
        file reader's events (a file that stops, a block skipped, a time moved).
        """
        for ev in events:
            kind = ev[0]
            if kind == engine.EV_MESSAGE:
                self._message(engine.message(ev), done)
            elif kind in (engine.EV_SLOW, engine.EV_SLOW_FRAME):
                # what the core does not decode: the reference decoder's, UDP coming back
                frame = frames[ev[1]] if kind == engine.EV_SLOW else _new(Frame, ev[1])
                payloads = self.decoder.feed(frame)
                if payloads:
                    done.extend(self._payloads(payloads))
            elif kind == engine.EV_FALLBACK:
                _, frame, ts, src, sport, dst, dport, data = ev
                p = Payload(
                    frame, ts, Endpoint(src, sport), Endpoint(dst, dport), Transport.UDP, data
                )
                inner = self._lift(p) if self.lifts else None
                if inner is not None:
                    # the core hands HEP back as a fallback: unwrapped, then framed
                    if inner:
                        done.extend(self._payloads(inner))
                    continue
                for msg in self.framer.feed(p):
                    self._message(msg, done)
            elif kind == engine.EV_TICK:
                ts = ev[1]
                done.extend(self._payloads(self.decoder.expire(ts)))
                done.extend(self.tracker.expire(ts))
            elif kind == engine.EV_DIAG:
                d = engine.diagnostic(ev)
                (self.source_report if d.trigger == Trigger.TIME_JUMP else self._report)(d)
            elif reader is not None:
                reader(ev)

    def _time_jump(self, frame: Frame) -> None:
        if self._last_ts:
            self.source_report(engine.time_jump(frame.number, frame.ts_ns - self._last_ts))

    def finish(self) -> list[AnalyzedCall]:
        """End of input: flush every stage, run cross-call rules, finalise counters."""
        if self._finished:
            return []
        self._finished = True
        self.stats.last_ts_ns = self._last_ts
        if self._scanner is not None:
            self.stats.first_ts_ns, self.stats.last_ts_ns = self._scanner.counters()[6:]
        out = self._payloads(self.decoder.flush())
        self.framer.flush()
        out.extend(self.tracker.flush())
        done = [self._annotate(c) for c in out]
        if self.shard is None:
            self.finish_cross_rules()
        self._sync_stats()
        return done

    def media_streams(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], tuple[int, int]]:
        """RTP streams, RTCP senders and (evicted, first frame evicted), from either engine."""
        if self._scanner is not None:
            return self._scanner.streams(), self._scanner.rtcp(), self._scanner.media_evicted()
        m = self.media
        if m is None:
            return [], [], (0, 0)
        return m.streams(), m.rtcp(), (m.evicted, m.first_evicted_frame)

    def finish_cross_rules(self) -> None:
        """Run the cross-call rules' conclusions into ``late_annotations``.

        ``finish`` does it, except in a shard: there the caller first merges every
        shard's cross-call rules into one pipeline (``shards``), then calls this.
        """
        for call_id, ann in run_many(self.cross_rules, self._report):
            self.stats.annotations_by_rule[ann.rule] += 1
            self.stats.annotations_by_severity[str(ann.severity)] += 1
            self.late_annotations.setdefault(call_id, []).append(ann)

    def attach_late(self, calls: list[AnalyzedCall]) -> list[AnalyzedCall]:
        """Merge cross-call annotations (known only at the end) into retained calls."""
        if not self.late_annotations:
            return calls
        late = self.late_annotations
        out = []
        for c in calls:
            extra = belonging(c.call, late.get(c.call.call_id, ()))
            out.append(AnalyzedCall(call=c.call, annotations=c.annotations + extra) if extra else c)
        return out

    def _annotate(self, call: Call) -> AnalyzedCall:
        anns = tuple(run_rules(call, self.rules, self._report))
        for rule in self.cross_rules:
            try:
                rule.observe(call)
            except Exception as exc:  # noqa: BLE001 - a plugin must never cost the report
                self._report(
                    Diagnostic(
                        frame=call.messages[0].frame if call.messages else 0,
                        stage=Stage.ANNOTATE,
                        trigger=Trigger.RULE_FAILED,
                        detail=f"rule {rule.id} failed: {type(exc).__name__}: {exc}",
                    )
                )
        st = self.stats
        st.calls += 1
        st.calls_by_kind[call.kind.value] += 1
        st.calls_by_state[call.state.value] += 1
        st.retransmissions += len(call.retransmissions)
        st.capture_duplicates += call.capture_duplicates
        if call.evicted:
            st.evicted_calls += 1
        for a in anns:
            st.annotations_by_rule[a.rule] += 1
            st.annotations_by_severity[str(a.severity)] += 1
        return AnalyzedCall(call=call, annotations=anns)

    def _sync_stats(self) -> None:
        st = self.stats
        ds = self.decoder.stats
        st.frames = ds.frames
        st.bytes = ds.bytes
        st.skipped = ds.skipped
        st.skipped_by_reason = dict(ds.by_reason)
        st.layers = dict(ds.layers)
        st.ip_fragments = ds.fragments
        st.tcp_retransmitted_segments = self.decoder.tcp.retransmitted_segments
        st.tls = self.tls.counts()
        st.sip_messages = self.framer.messages
        st.malformed = self.framer.malformed
        st.not_sip = self.framer.not_sip
        if self._scanner is not None:
            # the core counted the frames it decoded and the datagrams it framed
            frames, nbytes, payloads, messages, malformed, not_sip, _, _ = self._scanner.counters()
            st.frames = frames
            st.bytes = nbytes
            st.payloads += payloads
            st.sip_messages += messages
            st.malformed += malformed
            st.not_sip += not_sip

    def run(self, frames: Iterable[Frame]) -> Iterator[AnalyzedCall]:
        """Feed every frame, yielding calls as they finish, then the rest at the end."""
        feed = self.feed
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            plain = None
            if self._scanner is not None and isinstance(frames, FrameSource):
                plain = frames.plain_file()
            if plain is not None:
                assert isinstance(frames, FrameSource)
                yield from self._run_file(frames, plain)
            elif self._scanner is not None:
                n = 0
                for batch, held in self._batches(frames):
                    out = self._native_held(batch, held)
                    if out:
                        yield from out
                    n += len(batch)
                    if n & (_GC_EVERY_FRAMES - 1) < _NATIVE_BATCH:
                        gc.collect()
            else:
                for n, frame in enumerate(frames, 1):
                    out = feed(frame)
                    if out:
                        yield from out
                    if n & (_GC_EVERY_FRAMES - 1) == 0:
                        gc.collect()
            yield from self.finish()
        finally:
            if was_enabled:
                gc.enable()


def _ignore(_d: Diagnostic) -> None:
    """Report sink of a secondary shard for what shard 0 reports already."""


def belonging(call: Call, annotations: Iterable[Annotation]) -> tuple[Annotation, ...]:
    """The cross-call annotations that concern this snapshot of a Call-ID.

    One Call-ID can be published as several snapshots (a REGISTER refreshed every
    hour, a challenge answered minutes later), so an annotation goes to the
    snapshot holding its first evidence frame; one without frames goes to all.
    """
    frames = {m.frame for m in call.messages}
    return tuple(a for a in annotations if not a.frames or a.frames[0] in frames)


def analyze(
    paths: Iterable[str | os.PathLike[str]],
    *,
    on_diagnostic: Callable[[Diagnostic], None] | None = None,
) -> Analysis:
    """Analyse capture files completely and return the whole model (keeps every message).

    Raises:
        CaptureError: a source cannot be read at all.
    """
    paths = list(paths)
    pipe = Pipeline(on_diagnostic=on_diagnostic)
    pipe.stats.sources = [str(p) for p in paths]
    calls = list(pipe.run(read_frames(paths, pipe._report)))
    calls = pipe.attach_late(calls)
    return Analysis(calls=tuple(calls), stats=pipe.stats, diagnostics=tuple(pipe.diagnostics))
