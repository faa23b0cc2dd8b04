"""A tiny W3C WebDriver client (stdlib ``urllib`` only) driving headless Chromium via chromedriver.

Enough for the HTML report tests: open a page, run a script, find elements,
type, click, take screenshots, and reach the DevTools protocol through
chromedriver's ``goog/cdp/execute`` endpoint (to watch for ``alert`` before
any page script runs).  No selenium: the protocol is a handful of JSON calls.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["Browser", "WebDriverError"]

_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
_CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
]


class WebDriverError(RuntimeError):
    """chromedriver answered with an error (the message is its own)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """One chromedriver process with one headless Chromium session."""

    def __init__(
        self,
        chromedriver: str,
        chromium: str,
        profile: Path,
        *,
        width: int = 1400,
        height: int = 1000,
    ) -> None:
        self.port = _free_port()
        self._proc = subprocess.Popen(
            [chromedriver, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = ""
        try:
            self._wait_ready()
            caps = {
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": {
                            "binary": chromium,
                            "args": [
                                *_CHROME_ARGS,
                                f"--user-data-dir={profile}",
                                f"--window-size={width},{height}",
                            ],
                        },
                    }
                }
            }
            value = self._call("POST", "/session", caps)
            self.session = value["sessionId"]
        except BaseException:
            self._proc.kill()
            self._proc.wait()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            time.sleep(0.1)
        raise WebDriverError("chromedriver did not become ready in 20 s")

    def _call(self, method: str, path: str, body: object | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                payload = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            payload = json.loads(exc.read() or b"{}")
            value = payload.get("value", {})
            raise WebDriverError(f"{value.get('error')}: {value.get('message', '')[:500]}") from exc
        return payload.get("value", payload)

    def _s(self, method: str, path: str, body: object | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    # -- the API the tests use --------------------------------------------
    def cdp(self, cmd: str, params: dict[str, Any] | None = None) -> Any:
        """Run a DevTools protocol command in the page's target."""
        return self._s("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params or {}})

    def get(self, url: str) -> None:
        self._s("POST", "/url", {"url": url})

    def run(self, script: str, *args: object) -> Any:
        """Execute ``script`` (a function body) and return its value."""
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        return str(self._s("POST", "/element", {"using": "css selector", "value": css})[_ELEMENT])

    def type(self, element: str, text: str) -> None:
        self._s("POST", f"/element/{element}/value", {"text": text})

    def clear(self, element: str) -> None:
        self._s("POST", f"/element/{element}/clear", {})

    def click(self, element: str) -> None:
        self._s("POST", f"/element/{element}/click", {})

    def title(self) -> str:
        return str(self._s("GET", "/title"))

    def alert_text(self) -> str | None:
        """The text of an open alert/confirm/prompt dialog, None when there is none."""
        try:
            return str(self._s("GET", "/alert/text"))
        except WebDriverError as exc:
            if "no such alert" in str(exc):
                return None
            raise

    def screenshot_full(self, path: Path) -> None:
        """Save a PNG of the whole page, beyond the viewport."""
        shot = self.cdp("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))

    def screenshot_element(self, element: str, path: Path) -> None:
        data = self._s("GET", f"/element/{element}/screenshot")
        path.write_bytes(base64.b64decode(data))

    def quit(self) -> None:
        try:
            if self.session:
                self._s("DELETE", "")
        except (OSError, WebDriverError):
            pass
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.quit()
