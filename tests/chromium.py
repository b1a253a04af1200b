"""Headless Chromium driven over the DevTools protocol (a WebSocket, through `websockets`): open a
page, run its script, take screenshots. Tests that need it skip, saying so, where it is absent."""
from __future__ import annotations

import base64
import io
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack

from PIL import Image
from websockets.sync.client import connect

BINARY = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


class Browser:
    def __init__(self, width: int = 1000, height: int = 700):
        # Chromium's helpers (renderer, GPU, crash handler) can outlive the browser and keep writing
        # to the profile: they share its session, so close() ends them all before removing it.
        self.profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self.process = subprocess.Popen(
            [BINARY, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        found = threading.Event()
        self.endpoint = ""

        def read() -> None:         # the DevTools address is printed on stderr; keep draining it after
            for line in self.process.stderr:
                m = re.search(r"DevTools listening on (ws://\S+)", line)
                if m:
                    self.endpoint = m.group(1)
                    found.set()
        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60):
            self.close()
            raise RuntimeError("chromium did not start its DevTools endpoint within 60 s")
        self._stack = ExitStack()
        try:
            self.ws = self._stack.enter_context(connect(self.endpoint, max_size=None, open_timeout=30))
        except OSError as e:        # seen once in a full run, never alone: say which end failed
            self.close()
            raise OSError(f"chromium's DevTools endpoint {self.endpoint} (chromium exit code "
                          f"{self.process.poll()}): {e!r}") from e
        self.ids = itertools.count(1)
        self.session = None

    def call(self, method: str, timeout: float = 30.0, **params) -> dict:
        n = next(self.ids)
        message = {"id": n, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == n:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str, timeout: float = 30.0) -> None:
        """A new tab on `url`, once its page has loaded. (The tab is made blank and then navigates: an
        expression evaluated before the page has replaced the blank document is lost with it.)"""
        target = self.call("Target.createTarget", url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.wait_for("location.href !== 'about:blank' && document.readyState === 'complete'", timeout)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        """The expression's value once it is truthy; until then, an expression that throws, or a
        page whose context is going (it navigates: "context destroyed"), counts as not yet."""
        deadline, error = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(f"(() => {{ try {{ return {expression}; }} catch (e) {{ return false; }} }})()")
            except RuntimeError as e:
                value, error = None, e
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"the page never had {expression} within {timeout:g} s"
                             + (f" (DevTools last said: {error})" if error else ""))

    def screenshot(self) -> Image.Image:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")

    def close(self) -> None:
        try:
            self._stack.close()
        except Exception:
            pass
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._signal(signal.SIGKILL)     # whatever of the session is left
        self.process.wait()
        self.profile.cleanup()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
