"""Headless Chromium driven over the DevTools protocol on a pipe: no browser download, no port.

Debian's `chromium` (installed by .ci/run when missing) is started with
`--remote-debugging-pipe`: it reads protocol messages (JSON, each ended by a NUL byte) on
file descriptor 3 and writes its answers and events on 4. That is all a test needs to open a
page from disk, run a line of JavaScript in it, switch the colour scheme, and take a
screenshot: a dozen lines instead of a client library.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
    "--disable-default-apps", "--hide-scrollbars", "--remote-debugging-pipe",
]


class ChromiumError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 30) -> None:
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            raise ChromiumError("no chromium on PATH: install Debian's chromium (.ci/run does)")
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="chartfix-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: the protocol's fds 3 (commands) and 4 (answers)
            commands, answers = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        self.proc = subprocess.Popen(
            [executable, *ARGS, f"--user-data-dir={self._profile.name}",
             f"--window-size={width},{height}", "about:blank"],
            preexec_fn=wire, close_fds=False,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.resize(width, height)

    # --- the protocol ---

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise ChromiumError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_child], [], [], max(left, 0))
            if not ready:
                raise ChromiumError(f"chromium did not answer within {self.timeout} s")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise ChromiumError(f"chromium exited (status {self.proc.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        data: dict[str, Any] = json.loads(message)
        return data

    def wait_for(self, method: str) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._read()
            if event.get("method") == method:
                return event
            self.events.append(event)

    # --- what tests do ---

    def open(self, path: Path) -> None:
        self.open_url(path.resolve().as_uri())

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-able values)."""
        result = self.call(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise ChromiumError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def resize(self, width: int, height: int) -> None:
        """The viewport, in CSS pixels (a phone: 390 x 844): media queries and `innerWidth`
        follow it, so a page wider than it scrolls sideways (`scrollWidth > innerWidth`)."""
        self.call(
            "Emulation.setDeviceMetricsOverride", session=True,
            width=width, height=height, deviceScaleFactor=1, mobile=False,
        )

    def open_at(self, path: Path, fragment: str) -> None:
        """Open `path#fragment` as a link to it does: a fresh load, the fragment in the URL."""
        self.open_url("about:blank")  # not a same-document jump from the page open now
        self.open_url(f"{path.resolve().as_uri()}#{fragment}")

    def open_url(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")

    def color_scheme(self, scheme: str) -> None:
        self.call(
            "Emulation.setEmulatedMedia", session=True,
            features=[{"name": "prefers-color-scheme", "value": scheme}],
        )

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        data = self.call(
            "Page.captureScreenshot", session=True, format="png",
            captureBeyondViewport=full_page,
        )["data"]
        path.write_bytes(base64.b64decode(data))

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP refusals) so far."""
        out = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"]))
            elif event.get("method") == "Runtime.consoleAPICalled" and params.get("type") in (
                "error", "warning", "assert",
            ):
                out.append(json.dumps(params.get("args")))
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] in (
                "error", "warning",
            ):
                out.append(params["entry"]["text"])
        return out

    def close(self) -> None:
        with contextlib.suppress(ChromiumError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
