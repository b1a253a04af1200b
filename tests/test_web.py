"""serve --web: the page, its WebSocket, and what it refuses; in headless Chromium where installed."""
import http.server
import json
import socket
import threading
import time

import numpy as np
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bridge.client import Client
from bridge.daemon import ServeConfig, create
from chromium import BINARY, Browser
from conftest import free_port, wait_until


@pytest.fixture(scope="module")
def daemon(solo_model):
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)     # another program holds the output port
    holder.bind(("127.0.0.1", 0))
    for attempt in range(3):
        # a port free when picked can be another program's by the time the view binds it: pick again
        d = create(ServeConfig(port=0, out_port=holder.getsockname()[1], web=free_port("tcp"), glide=0.0,
                               dashboard="off", midi="none"))
        try:
            d.start()
            break
        except OSError:
            d.stop()
            if attempt == 2:
                raise
    yield d
    d.stop()
    holder.close()


def page_socket(daemon, origin: str | None = None, host: str = "127.0.0.1"):
    """A WebSocket to the view, saying it comes from `origin` and is for `host` (connected to 127.0.0.1
    whatever the name: what DNS rebinding does)."""
    return connect(f"ws://{host}:{daemon.web.port}/ws", origin=origin, open_timeout=10,
                   sock=socket.create_connection(("127.0.0.1", daemon.web.port)))


def receive(ws, kind: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        m = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if m["type"] == kind:
            return m


def test_a_page_gets_the_schema_then_frames_and_its_commands_are_applied(daemon):
    with page_socket(daemon, origin=daemon.web.url.rstrip("/")) as ws:
        schema = receive(ws, "schema")
        assert schema["labels"] == daemon.engine.labels and len(schema["parents"]) == 21
        assert {p["name"] for p in schema["params"]} >= {"variance", "energy"}
        assert schema["actions"] == [] and schema["action"] is None     # the shipped model takes no actions
        first, second = receive(ws, "frame"), receive(ws, "frame")
        assert second["index"] > first["index"] and np.asarray(first["poses"]).shape == (1, 21, 3)
        ws.send(json.dumps({"type": "osc", "address": "/energy", "args": [2.25]}))
        ws.send(json.dumps({"type": "osc", "address": "/variance", "args": [-1]}))
        assert "variance must be between" in receive(ws, "error")["text"]
        assert wait_until(lambda: daemon.engine.value("energy") == pytest.approx(2.25))
        ws.send("not json")
        assert receive(ws, "error")["text"] == "send JSON objects"
        ws.send(json.dumps({"type": "osc", "address": "/bridge/subscribe", "args": [9]}))
        assert "OSC clients" in receive(ws, "error")["text"]


def test_a_slow_page_skips_frames_and_a_dead_one_is_dropped(daemon):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)          # a page that reads slowly
    sock.connect(("127.0.0.1", daemon.web.port))
    with connect(f"ws://127.0.0.1:{daemon.web.port}/ws", sock=sock, max_queue=1) as ws:
        receive(ws, "schema")
        first = receive(ws, "frame")["index"]
        made = daemon.stats.frames
        assert wait_until(lambda: daemon.stats.frames >= made + 90)     # three seconds not read
        read, index = 0, first
        while index < daemon.engine.frame - 3:                          # catch up with the show
            index = receive(ws, "frame")["index"]
            read += 1
            assert read < 200, "the page never caught up"
        assert index - first > read + 20, f"{read} frames read to go {index - first} ahead: nothing was skipped"
        assert daemon.web.clients >= 1
    assert wait_until(lambda: daemon.web.clients == 0), "a closed page was kept"
    made = daemon.stats.frames
    assert wait_until(lambda: daemon.stats.frames >= made + 5)


def test_another_origin_or_host_is_refused(daemon):
    refused = daemon.web.refused
    with pytest.raises(InvalidStatus) as e:
        page_socket(daemon, origin="http://evil.example")
    assert e.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as e:       # DNS rebinding: a foreign name that resolves here
        page_socket(daemon, origin=f"http://evil.example:{daemon.web.port}", host="evil.example")
    assert e.value.response.status_code == 421
    assert daemon.web.refused == refused + 2
    assert any("may not drive this daemon" in t for _, t in daemon.stats.recent_errors)


def test_the_port_in_use_is_said_up_front_and_the_daemon_stops_cleanly(daemon, solo_model):
    second = create(ServeConfig(port=0, web=daemon.web.port, dashboard="off", midi="none"))
    with pytest.raises(OSError, match="web view: cannot listen"):
        second.start()
    second.stop()                                   # nothing of it left running, and no error
    assert not second.web.alive()


needs_chromium = pytest.mark.skipif(BINARY is None, reason="no chromium here (Debian: apt install chromium)")


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@needs_chromium
def test_chromium_draws_a_moving_dancer_and_its_slider_moves_the_target(daemon, browser):
    browser.open(daemon.web.url)
    browser.wait_for("window.motionbridge.frames > 10 && window.motionbridge.bbox !== null")
    assert browser.evaluate("document.getElementById('action-row').hidden") is True   # no actions to ask for
    x0, y0, x1, y1 = browser.evaluate("window.motionbridge.bbox")
    assert y1 - y0 > 0.4 * 700 * 0.6                                  # a figure, not a speck
    before = np.asarray(browser.screenshot(), dtype=int)
    frames = browser.evaluate("window.motionbridge.frames")
    browser.wait_for(f"window.motionbridge.frames > {frames + 30}")   # a second of frames later
    after = np.asarray(browser.screenshot(), dtype=int)
    box = (slice(max(0, int(y0) - 20), int(y1) + 20), slice(max(0, int(x0) - 20), int(x1) + 20))
    changed = (np.abs(after[box] - before[box]).sum(-1) > 40).mean()
    assert changed > 0.01, f"only {changed:.2%} of the dancer's box changed in a second"
    # the page's own slider, moved by its own input handler
    browser.evaluate("""(() => { const s = document.querySelector('input[data-name="tired"]');
                                 s.value = 1; s.dispatchEvent(new Event('input')); })()""")
    tired = daemon.engine.labels.index("tired")
    with Client("127.0.0.1", daemon.address[1]) as bridge:
        assert wait_until(lambda: bridge.status().performers[0].target[tired] > 0.3), "the slider did not reach the daemon"


@needs_chromium
def test_chromium_on_another_site_cannot_connect(daemon, browser):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        browser.open(f"http://127.0.0.1:{other.server_address[1]}/")
        outcome = browser.evaluate(f"""new Promise(done => {{
            const s = new WebSocket('ws://127.0.0.1:{daemon.web.port}/ws');
            s.onopen = () => done('open'); s.onerror = () => done('refused'); }})""")
        assert outcome == "refused"
    finally:
        other.shutdown()
