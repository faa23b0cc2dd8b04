"""Exporters: the Protocol every report format implements, and the registry that picks one.

Strategy: an exporter turns one finished ``Analysis`` into text on a stream
(``write(analysis, fp)``).  Every format sipsniff writes is text (UTF-8):
HTML, Markdown, plain text, JSON, Mermaid, PlantUML, so the Protocol takes a
text stream and the caller owns encoding and the file.  The pcap written by
``report --write-pcap`` is not an exporter: it is frames, not a rendering of
the analysis, and lives in ``capture/writer.py``.

Exporters that can write calls as they finish (JSON and NDJSON) also offer
``stream(fp)`` returning a ``CallSink``, so a large capture is exported
without holding every call in memory.

The registry selects by ``--format`` name (or alias) or else by the output
file's suffix, and plugins may ``register`` more.

Rules: an exporter never reads packets; it reads the model only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import IO, Protocol, runtime_checkable

from ..analysis import Analysis, AnalyzedCall, Stats
from ..annotate.annotation import Annotation
from ..diagnostics import Diagnostic
from .diagrams import mermaid_exporter, plantuml_exporter
from .html import html_exporter
from .json_report import JsonWriter, NdjsonWriter
from .text import markdown_exporter, text_exporter

__all__ = [
    "ALIASES",
    "CallSink",
    "Exporter",
    "StreamingExporter",
    "UnknownFormat",
    "all_exporters",
    "choose",
    "for_name",
    "for_path",
    "register",
]


@runtime_checkable
class Exporter(Protocol):
    """A report format."""

    @property
    def name(self) -> str:
        """The ``--format`` value (``html``, ``md``...)."""
        ...

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Output file suffixes that select it (lower case, with the dot)."""
        ...

    @property
    def description(self) -> str: ...

    def write(self, analysis: Analysis, fp: IO[str]) -> None:
        """Write the whole report of ``analysis`` to a text stream."""
        ...


class CallSink(Protocol):
    """Receives calls as they finish, then the totals (``JsonWriter``, ``NdjsonWriter``)."""

    def add(self, ac: AnalyzedCall, extra: Iterable[Annotation] = ()) -> None: ...

    def close(
        self,
        stats: Stats,
        diagnostics: Iterable[Diagnostic],
        late: dict[str, list[Annotation]] | None = None,
    ) -> None: ...


@runtime_checkable
class StreamingExporter(Exporter, Protocol):
    """An exporter that can also write call by call."""

    def stream(self, fp: IO[str]) -> CallSink:
        """A sink writing to ``fp``; ``close`` ends the document."""
        ...


class JsonExporter:
    """``--format json``: the document of ``analyze --format json`` (the schema file)."""

    name = "json"
    suffixes: tuple[str, ...] = (".json",)
    description = "JSON document (sipsniff/schema/analysis.schema.json)"

    def stream(self, fp: IO[str]) -> CallSink:
        return JsonWriter(fp)

    def write(self, analysis: Analysis, fp: IO[str]) -> None:
        _write_all(self.stream(fp), analysis)


class NdjsonExporter:
    """``--format ndjson``: one call per line as it finishes, then a summary line."""

    name = "ndjson"
    suffixes: tuple[str, ...] = (".ndjson", ".jsonl")
    description = "newline-delimited JSON, one call per line"

    def stream(self, fp: IO[str]) -> CallSink:
        return NdjsonWriter(fp)

    def write(self, analysis: Analysis, fp: IO[str]) -> None:
        _write_all(self.stream(fp), analysis)


def _write_all(sink: CallSink, analysis: Analysis) -> None:
    for ac in analysis.calls:
        sink.add(ac)
    sink.close(analysis.stats, analysis.diagnostics)


class UnknownFormat(ValueError):
    """No exporter has that name, or none claims that file suffix."""


ALIASES = {
    "markdown": "md",
    "txt": "text",
    "htm": "html",
    "mmd": "mermaid",
    "puml": "plantuml",
    "jsonl": "ndjson",
}

_REGISTRY: dict[str, Exporter] = {}


def register(exporter: Exporter) -> Exporter:
    """Add (or replace) an exporter; returns it, so it can decorate a singleton."""
    _REGISTRY[exporter.name] = exporter
    return exporter


for _e in (
    html_exporter,
    markdown_exporter,
    text_exporter,
    JsonExporter(),
    NdjsonExporter(),
    mermaid_exporter,
    plantuml_exporter,
):
    register(_e)


def all_exporters() -> list[Exporter]:
    """Every registered exporter, in registration order."""
    return list(_REGISTRY.values())


def for_name(name: str) -> Exporter:
    """The exporter called ``name`` (or an alias such as ``markdown``).

    Raises:
        UnknownFormat: no such exporter; the message lists the known ones.
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise UnknownFormat(f"unknown format {name!r}; known: {', '.join(_REGISTRY)}") from None


def for_path(path: str | PurePath) -> Exporter:
    """The exporter claiming the file's suffix (``report.html`` -> html; case-insensitive).

    Raises:
        UnknownFormat: no exporter claims the suffix; the message lists the known ones.
    """
    name = PurePath(path).name.lower()
    best: Exporter | None = None
    best_len = 0
    for e in _REGISTRY.values():
        for s in e.suffixes:
            if name.endswith(s) and len(s) > best_len and len(name) > len(s):
                best, best_len = e, len(s)
    if best is None:
        known = ", ".join(s for e in _REGISTRY.values() for s in e.suffixes)
        raise UnknownFormat(
            f"cannot tell the format from {str(path)!r}: use --format or one of {known}"
        )
    return best


def choose(fmt: str | None, path: str | PurePath | None) -> Exporter:
    """``--format`` when given, else the output file's suffix.

    Raises:
        UnknownFormat: neither names a known format.
    """
    if fmt:
        return for_name(fmt)
    if path is None or str(path) == "-":
        raise UnknownFormat("writing to stdout: say which format with --format")
    return for_path(path)
