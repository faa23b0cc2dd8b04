"""Helpers for driving the terminal UI headless: start, wait for the load, read the screen.

Tests are plain functions running one ``asyncio.run`` each (the project does not
use pytest-asyncio); ``drive`` starts ``SipsniffApp`` under ``App.run_test`` at a
given size and hands the scenario a ``Harness``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.strip import Strip

from sipsniff.capture.sources import expand_paths
from sipsniff.tui.app import SipsniffApp

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""A character that would make a terminal do something instead of showing it."""


class Harness:
    """One running app and what the tests ask of it."""

    def __init__(self, app: SipsniffApp, pilot: Pilot[None]) -> None:
        self.app = app
        self.pilot = pilot

    async def loaded(self, timeout: float = 15.0) -> None:
        """Wait until the capture has loaded and the screen has caught up."""
        for _ in range(int(timeout / 0.02)):
            if self.app.session.loaded:
                break
            await self.pilot.pause(0.02)
        else:
            raise AssertionError("the capture did not finish loading")
        await self.pilot.pause()

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.pilot.pause()

    async def type(self, text: str) -> None:
        await self.pilot.press(*text)
        await self.pilot.pause()

    async def until(self, cond: Callable[[], bool], timeout: float = 15.0) -> None:
        for _ in range(int(timeout / 0.02)):
            if cond():
                return
            await self.pilot.pause(0.02)
        raise AssertionError("condition not met in time")

    def lines(self) -> list[str]:
        """Every line on the screen, as the terminal would show it (styles dropped)."""
        app = self.app
        update = app.screen._compositor.render_update(
            full=True, screen_stack=app._background_screens
        )
        out = []
        for line in update.strips:  # a Strip per line (Textual 6), or Strips per line (8)
            strips = [line] if isinstance(line, Strip) else list(line)
            out.append("".join(seg.text for strip in strips for seg in strip))
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    @staticmethod
    def is_inert(text: str) -> bool:
        return CONTROL.search(text) is None

    def inert(self) -> str:
        """The screen, asserting that no line holds a character a terminal would act on."""
        lines = self.lines()
        for i, line in enumerate(lines):
            assert self.is_inert(line), f"line {i} holds a control character: {line!r}"
        return "\n".join(lines)


def drive(
    paths: list[Path],
    scenario: Callable[[Harness], Awaitable[None]],
    *,
    size: tuple[int, int] = (100, 30),
    **kw: Any,
) -> SipsniffApp:
    """Run ``scenario`` against an app on ``paths``; return the app (after it stopped)."""
    app = SipsniffApp(expand_paths(paths), **kw)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            h = Harness(app, pilot)
            await scenario(h)

    asyncio.run(main())
    return app


@pytest.fixture
def tui_drive() -> Callable[..., SipsniffApp]:
    """``drive``, as a fixture (conftest modules are not imported by tests)."""
    return drive
