"""A small Chrome DevTools-protocol client for the browser test: launch headless Chromium,
attach to its page over a websocket, call methods, evaluate JavaScript, take screenshots.

Uses `websockets` (a dependency of Streamlit) through its synchronous client. Only what
the test needs: one page target, calls answered in order, events ignored.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from websockets.sync.client import ClientConnection, connect

T = TypeVar("T")
BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


class CDPError(RuntimeError):
    """The browser answered a call with an error, or a JavaScript expression threw."""


def find_browser() -> str | None:
    """The first Chromium-family binary on PATH, or None."""
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.1) -> T:
    """Poll check() until it returns something other than None/False; TimeoutError
    naming `what` (with the last exception, if any) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value is not None and value is not False:
                return value
        except Exception as error:
            last = error
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last})")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


class Page:
    """One page target: call(method, **params) -> result; evaluate(js) -> value."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next_id = 0

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        call_id = self._next_id
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") != call_id:
                continue  # an event, or the answer to an abandoned call
            if "error" in message:
                raise CDPError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises awaited)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise CDPError(f"{expression[:80]!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def insert_text(self, text: str) -> None:
        """Type text into the focused element, as an IME would (fires input events)."""
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        return data


def _page_ws_url(port: int) -> str | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
        targets = json.loads(response.read())
    pages = [t for t in targets if t.get("type") == "page" and "webSocketDebuggerUrl" in t]
    return str(pages[0]["webSocketDebuggerUrl"]) if pages else None


@contextmanager
def browser(binary: str, profile: Path, *, timeout: float = 20) -> Iterator[Page]:
    """Headless Chromium with a fresh profile, attached to its first page; killed after."""
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            *FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = wait_for(lambda: _page_ws_url(port), timeout=timeout, what="Chromium DevTools")
        with connect(url, max_size=None, open_timeout=timeout) as ws:
            page = Page(ws)
            page.call("Page.enable")
            page.call("Runtime.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
