"""Annotate: Call -> Annotation. Knowledge is data (``data/``), diagnoses are rules (``rules/``)."""

from .annotation import Annotation
from .knowledge import Severity, lookup

__all__ = ["Annotation", "Severity", "lookup"]
