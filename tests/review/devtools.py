"""A small Chrome DevTools Protocol client over `websockets`, to drive Debian's headless
chromium from tests (no chromedriver, no selenium): navigate, evaluate, press keys, screenshot."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from itertools import count
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]
# Windows virtual key codes for the non-character keys the app uses.
KEY_CODES = {"ArrowDown": 40, "ArrowUp": 38, "ArrowLeft": 37, "ArrowRight": 39, "Enter": 13, "Escape": 27}


class Browser:
    """One headless chromium with one page; use as a context manager."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900):
        self.profile = profile
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                                         f"--window-size={width},{height}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._ids = count(1)
        self.socket = connect(self._page_socket_url(), max_size=None, open_timeout=30)

    def _page_socket_url(self) -> str:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker.is_file() and len(marker.read_text().splitlines()) >= 2:
                port = int(marker.read_text().splitlines()[0])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                    pages = [target for target in json.load(answer) if target["type"] == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port within 60 s")

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None  # the page is navigating
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def open(self, url: str) -> None:
        """Navigate and wait until the app's script says the page is ready."""
        self.evaluate("document.body && (document.body.dataset.ready = 'leaving')")
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && document.body && document.body.dataset.ready === 'yes'")

    def reload(self) -> None:
        self.evaluate("document.body.dataset.ready = 'leaving'")
        self.send("Page.reload", ignoreCache=True)
        self.wait_for("document.readyState === 'complete' && document.body.dataset.ready === 'yes'")

    def press(self, key: str) -> None:
        """A real key press (keydown, char, keyup) as the user's keyboard makes it."""
        code = KEY_CODES.get(key, ord(key.upper()) if len(key) == 1 else 0)
        down: dict[str, Any] = {"key": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
        if len(key) == 1:
            down["text"] = key
            down["code"] = f"Key{key.upper()}" if key.isalpha() else f"Digit{key}"
        else:
            down["code"] = key
        if key == "Enter":
            down["text"] = "\r"
        self.send("Input.dispatchKeyEvent", type="keyDown", **down)
        self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=down["code"], windowsVirtualKeyCode=code)

    def screenshot(self, target: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        target.write_bytes(base64.b64decode(data))
        return target
