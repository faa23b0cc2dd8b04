"""Capture: bytes from files or interfaces, with no protocol knowledge beyond the link type."""

from .frame import Frame, LinkType
from .sources import expand_paths, read_frames

__all__ = ["Frame", "LinkType", "expand_paths", "read_frames"]
