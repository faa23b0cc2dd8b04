"""Import direction (STYLE rule 15): every sipsniff module imports only from its layer or below.

The flow is capture -> decode -> sip -> dialogs -> annotate -> render.  Each
layer imports from the layers to its left, never to its right:

=========================  =====  ====================================================
module                     rank   may import
=========================  =====  ====================================================
diagnostics.py             -      nothing from sipsniff; every layer may import it
capture/                   0      capture
decode/                    1      capture, decode
sip/                       2      ... sip
engine.py                  2      ... sip, _native (the native core's Python face)
_native (extension)        0      nothing: compiled from sipsniff/_core
dialogs/                   3      ... dialogs
annotate/                  4      ... annotate
analysis.py, filters.py    5      ... annotate, analysis, filters (the boundary model)
render/                    6      ... analysis, filters, render; never capture or decode
pipeline.py, cli/, tui/    7      everything (and the package root)
=========================  =====  ====================================================

Rules checked besides the ranks:
- ``render`` never sees packets: no import of ``capture`` or ``decode`` (the
  renderers read ``Analysis``, never ``Frame`` or ``Payload``).
- ``from sipsniff import __version__`` is allowed anywhere (package metadata).
- scapy and pyshark are imported only by ``capture/live.py`` (the file path
  decodes from bytes; ruff's banned-api says the same for the linter).

Every import counts: at module level, inside functions, under
``TYPE_CHECKING``, and ``importlib.import_module("sipsniff....")`` with a
literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sipsniff"

RANK: dict[str, int] = {
    "capture": 0,
    "decode": 1,
    "sip": 2,
    "engine": 2,
    "tls": 2,  # a transport lift between decode and SIP framing (reads pcapng secrets)
    "hep": 1,  # HEP codec and its lift: imports decode and diagnostics only
    "media": 1,  # RTP/RTCP accounting of UDP payloads: imports nothing of SIP
    "_native": 0,
    "dialogs": 3,
    "annotate": 4,
    "analysis": 5,
    "filters": 5,
    "render": 6,
    "pipeline": 7,
    "shards": 7,
    "cli": 7,
    "tui": 7,
    "__main__": 7,
    "": 7,  # the package root re-exports the public API
}
"""Rank of each first-level name under sipsniff/ (diagnostics is handled apart)."""

NEVER: dict[str, frozenset[str]] = {"render": frozenset({"capture", "decode"})}
LIVE_ONLY = frozenset({"scapy", "pyshark"})
LIVE_MODULE = "sipsniff.capture.live"


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append((".".join(parts), path))
    return out


def _layer(module: str) -> str:
    """``sipsniff.decode.tcp`` -> ``decode``; ``sipsniff`` -> ``''``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(module: str, path: Path) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, imported module, names) for every import in a module, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            names = tuple(a.name for a in node.names)
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_pkg else node.level
                base = base[: len(base) - drop] if drop else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None:
                # ``from . import x``: x may be a submodule or a name in the package
                for n in names:
                    sub = target + "." + n
                    sub_path = PACKAGE.parent / Path(*sub.split("."))
                    known = (
                        sub_path.with_suffix(".py").exists()
                        or sub_path.with_suffix(".pyi").exists()  # a compiled extension's stub
                        or sub_path.is_dir()
                    )
                    yield node.lineno, (sub if known else target), (() if known else (n,))
            else:
                yield node.lineno, target, names
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value, ()


def violations(mods: list[tuple[str, Path]] | None = None) -> list[str]:
    """One line per import that breaks the order, as ``module:line: why``."""
    problems: list[str] = []
    for module, path in modules() if mods is None else mods:
        where = module
        src = _layer(module)
        for line, target, names in imports(module, path):
            top = target.split(".")[0]
            if top in LIVE_ONLY:
                if module != LIVE_MODULE:
                    problems.append(f"{where}:{line}: imports {target}; only {LIVE_MODULE} may")
                continue
            if top != "sipsniff":
                continue
            dst = _layer(target)
            if src == "diagnostics":
                problems.append(f"{where}:{line}: diagnostics.py must not import {target}")
                continue
            if dst == "diagnostics":
                continue
            if dst == "" and names == ("__version__",):
                continue
            if src not in RANK:
                problems.append(f"{where}: {src} has no place in RANK (tests/test_layers.py)")
                break
            if dst not in RANK:
                problems.append(f"{where}:{line}: imports {target}, which has no place in RANK")
                continue
            if dst in NEVER.get(src, ()):
                problems.append(f"{where}:{line}: {src} must never import {dst} ({target})")
            elif RANK[dst] > RANK[src]:
                problems.append(f"{where}:{line}: upward import {src} -> {dst} ({target})")
    return problems


def test_no_upward_imports() -> None:
    assert violations() == []


def test_every_module_has_a_place_in_the_order() -> None:
    layers = {_layer(m) for m, _ in modules()}
    assert layers - {"diagnostics"} <= set(RANK), "add new top-level modules to RANK"


# -- the checker itself ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "sipsniff.capture.pcap",
            "from ..sip.message import SipMessage",
            "upward import capture -> sip",
        ),
        (
            "sipsniff.decode.tcp",
            "from sipsniff.dialogs import call",
            "upward import decode -> dialogs",
        ),
        ("sipsniff.sip.framing", "import sipsniff.pipeline", "upward import sip -> pipeline"),
        (
            "sipsniff.annotate.rules.x",
            "from ...analysis import Analysis",
            "upward import annotate -> analysis",
        ),
        (
            "sipsniff.render.x",
            "from ..decode.payload import Endpoint",
            "render must never import decode",
        ),
        (
            "sipsniff.dialogs.x",
            "def f():\n    from ..render import html",
            "upward import dialogs -> render",
        ),
        (
            "sipsniff.sip.x",
            "importlib.import_module('sipsniff.cli.analyze')",
            "upward import sip -> cli",
        ),
        ("sipsniff.decode.x", "import scapy.all", "only sipsniff.capture.live may"),
        ("sipsniff.diagnostics", "from .sip import grammar", "diagnostics.py must not import"),
    ],
)
def test_checker_catches(module: str, source: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(source + "\n")
    found = violations([(module, path)])
    assert len(found) == 1
    assert expected in found[0]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("sipsniff.render.json_report", "from .. import __version__"),
        ("sipsniff.render.x", "from ..analysis import Analysis\nfrom ..dialogs.call import Call"),
        ("sipsniff.analysis", "from .annotate.annotation import Annotation"),
        (
            "sipsniff.decode.decoder",
            "from ..capture.frame import Frame\nfrom ..diagnostics import Trigger",
        ),
        (
            "sipsniff.cli.analyze",
            "from ..capture.sources import read_frames\nfrom ..render import html",
        ),
        ("sipsniff.capture.live", "import scapy.all\nimport pyshark"),
        ("sipsniff.annotate.rules", "from . import auth"),
        ("sipsniff.dialogs.outcome", "if TYPE_CHECKING:\n    from .tracker import OpenCall"),
    ],
)
def test_checker_allows(module: str, source: str, tmp_path: Path) -> None:
    path = tmp_path / ("__init__.py" if module.endswith("rules") else "m.py")
    path.write_text(source + "\n")
    assert violations([(module, path)]) == []
