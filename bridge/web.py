"""`serve --web`: one page that draws the dancers in 3-D, with sliders that send commands back.

An HTTP server and a WebSocket on one port (the `websockets` library does both: the handshake,
framing, pings and close are its job, not ours), on a thread of its own with its own asyncio loop.

- The frame thread hands each frame over with `publish`, which only swaps a reference and wakes the
  loop: it never waits on a client. The loop encodes the frame once, and each client's task sends
  the newest one when its last send has gone: a slow client skips frames, a dead one is dropped
  (its send fails, or the library's keep-alive ping closes it).
- The page's commands are OSC addresses and arguments as JSON, checked by the same protocol as OSC
  (`Control.command`); a refusal comes back to that page. At most COMMANDS_PER_S per page.
- A WebSocket whose `Origin` is not this server's own page is refused, and so is a request whose
  `Host` is not a name of this machine: a web site open in the same browser cannot drive the daemon,
  directly or by rebinding its DNS name to 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from models import skeleton

from .engine import Frame
from .intake import TokenBucket
from .params import PARAMS
from .status import Stats

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("web.html")
COMMANDS_PER_S = 120            # a slider dragged sends 60 a second; a page sending more is refused beyond this
LARGEST_MESSAGE = 4096          # bytes a page may send at once
SEND_BUFFER = 16384             # bytes queued towards a page (a frame is about 1 kB): at most ~0.5 s behind


class WebView:
    def __init__(self, host: str, port: int, schema: Callable[[], dict], command: Callable[[str, list], str | None],
                 stats: Stats):
        """`schema()`: what the page needs to build itself (labels, parameters, modes); `command(address,
        args)`: apply one OSC-style message, returning why it was refused, if it was."""
        self.host, self.requested_port = host, port
        self.schema, self.command, self.stats = schema, command, stats
        self.page = PAGE.read_bytes()
        self.port = 0
        self.clients = 0
        self.refused = 0
        self._latest: Frame | None = None
        self._encoded: tuple[int, str] = (-1, "")
        self._wakers: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Listen (OSError if the port cannot be had), then serve on the web thread."""
        self.thread.start()
        self._ready.wait(timeout)
        if self._error is not None:
            raise self._error
        if not self.port:
            raise OSError("the web view did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:            # its loop has ended already (it could not listen): nothing to stop
                pass
        if self.thread.is_alive():
            self.thread.join(timeout=3.0)

    def alive(self) -> bool:
        return self.thread.is_alive()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:          # noqa: BLE001: reported to start(), or counted once running
            if not self._ready.is_set():
                self._error = e
                self._ready.set()
            else:
                self.stats.internal("web", e)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            listening = socket.create_server((self.host, self.requested_port))
        except OSError as e:
            raise OSError(f"web view: cannot listen on {self.host}:{self.requested_port}: {e.strerror or e}; "
                          f"choose another port (--web PORT)") from None
        # A page that stops reading must not build a backlog the kernel would otherwise let grow to
        # megabytes (seconds of stale frames): with small buffers its sends wait, and the frames
        # meanwhile are skipped. The pages' sockets inherit this from the listening one.
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        server = await serve(self._client, sock=listening, process_request=self._request, max_size=LARGEST_MESSAGE,
                             max_queue=4, write_limit=SEND_BUFFER // 2, compression=None,
                             server_header="motionbridge", logger=log)
        self.port = server.sockets[0].getsockname()[1]
        self._hosts = self._names()
        self._ready.set()
        async with server:
            await self._stop.wait()

    def _names(self) -> set[str]:
        """host[:port] values a request to this server may carry in Host, and (after http://) in Origin."""
        names = {"127.0.0.1", "localhost", "[::1]", socket.gethostname()}
        if self.host not in ("", "0.0.0.0"):
            names.add(self.host)
        else:
            try:
                names.update(socket.gethostbyname_ex(socket.gethostname())[2])
            except OSError:
                pass
        return {f"{n}:{self.port}" for n in names}

    # ---- the frame thread's side ------------------------------------------------------------

    def publish(self, frame: Frame) -> None:
        """The newest frame; costs the frame thread a reference swap, and a wake-up when a page is open."""
        self._latest = frame
        if self._wakers and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        for event in self._wakers:
            event.set()

    def _frame_text(self) -> str:
        """The newest frame as JSON, encoded once however many pages read it."""
        frame = self._latest
        if frame is None:
            return ""
        if self._encoded[0] != frame.index:
            self._encoded = (frame.index, json.dumps({
                "type": "frame", "index": frame.index, "time": round(frame.time, 4), "sent": time.time() * 1000,
                "poses": frame.positions.round(4).tolist(),
                "target": frame.emotion.round(3).tolist(), "emotion": frame.recognised.round(3).tolist(),
            }, separators=(",", ":")))
        return self._encoded[1]

    # ---- HTTP -----------------------------------------------------------------------------------

    def _request(self, connection: ServerConnection, request: Request) -> Response | None:
        hosts = request.headers.get_all("Host")
        host = hosts[0] if len(hosts) == 1 else ""
        path = request.path.split("?", 1)[0]
        if host not in self._hosts:
            return self._refuse(connection, 421, f"this server answers to {self.url} only (Host {host!r})")
        if path == "/ws":
            origins = request.headers.get_all("Origin")
            origin = origins[0] if len(origins) == 1 else (None if not origins else "several")
            # a browser always sends Origin; a script (the bench, a notebook) may not, and could as
            # well send OSC, so no Origin is allowed
            if origin is not None and origin.removeprefix("http://") not in self._hosts:
                return self._refuse(connection, 403, f"a page from {origin} may not drive this daemon; open {self.url}")
            return None
        if path in ("/", "/index.html"):
            headers = Headers({"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                               "Content-Length": str(len(self.page)),
                               "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: ; "
                                                          "style-src 'unsafe-inline'; script-src 'unsafe-inline'"})
            return Response(200, "OK", headers, self.page)
        return connection.respond(404, "not found: the view is at /\n")

    def _refuse(self, connection: ServerConnection, status: int, text: str) -> Response:
        self.refused += 1
        self.stats.error("web", text)
        return connection.respond(status, text + "\n")

    # ---- a page ---------------------------------------------------------------------------------

    async def _client(self, ws: ServerConnection) -> None:
        wake = asyncio.Event()
        self.clients += 1
        self._wakers.add(wake)
        reader = asyncio.create_task(self._read(ws))
        try:
            await ws.send(json.dumps({"type": "schema", **self.schema()}))
            while not reader.done():
                await wake.wait()
                wake.clear()
                text = self._frame_text()
                if text:
                    await ws.send(text)      # waits while this page is slow; frames meanwhile are skipped
        except ConnectionClosed:
            pass
        finally:
            self._wakers.discard(wake)
            self.clients -= 1
            reader.cancel()

    async def _read(self, ws: ServerConnection) -> None:
        bucket = TokenBucket(COMMANDS_PER_S, time.monotonic())
        try:
            async for text in ws:
                reply = self._handle(text, bucket)
                if reply is not None:
                    await ws.send(json.dumps(reply))
        except ConnectionClosed:
            pass
        finally:
            for event in self._wakers:       # let the sender notice the page has gone
                event.set()

    def _handle(self, text: str | bytes, bucket: TokenBucket) -> dict | None:
        if not bucket.take(time.monotonic()):
            self.stats.error("web", "web view: more than %d commands a second from one page" % COMMANDS_PER_S)
            return None
        try:
            message = json.loads(text)
            kind = message.get("type")
        except (ValueError, AttributeError):
            self.stats.error("web", "web view: a message that is not a JSON object")
            return {"type": "error", "text": "send JSON objects"}
        if kind == "ping":                   # the page measures the round trip
            return {"type": "pong", "t": message.get("t")}
        if kind == "osc" and isinstance(message.get("address"), str) and isinstance(message.get("args", []), list):
            refused = self.command(message["address"], message.get("args", []))
            return None if refused is None else {"type": "error", "text": refused}
        self.stats.error("web", "web view: unknown message")
        return {"type": "error", "text": 'send {"type": "osc", "address": "/energy", "args": [1.5]}'}


def page_schema(engine) -> dict:
    """What the page builds its view and controls from."""
    return {
        "labels": list(engine.labels), "names": skeleton.JOINTS, "parents": skeleton.PARENTS,
        "performers": engine.performers, "roles": list(engine.generator.roles), "modes": list(engine.generator.modes), "mode": engine.mode, "fps": engine.fps,
        "actions": list(engine.generator.actions), "action": engine.actions[0],
        "target": [round(float(w), 3) for w in engine.target[0]],
        "params": [{"name": p.name, "min": p.knob[0], "max": p.knob[1], "curve": p.curve, "meaning": p.meaning,
                    "value": engine.value(p.name)} for p in PARAMS.values() if p.knob is not None],
    }
