"""sipsniff: a SIP traffic analyzer that says, for every failed call, what went wrong and why.

Public API::

    from sipsniff import analyze
    result = analyze(["capture.pcap"])
    for ac in result.calls:
        print(ac.call.call_id, ac.call.state, [a.rule for a in ac.annotations])
"""

from __future__ import annotations

__version__ = "0.1.0"

from .analysis import Analysis, AnalyzedCall, Stats
from .pipeline import Pipeline, analyze

__all__ = ["Analysis", "AnalyzedCall", "Pipeline", "Stats", "__version__", "analyze"]
