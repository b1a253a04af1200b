"""A running daemon driven over real UDP: python-osc clients, and liblo's oscsend/oscdump."""
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from bridge import intake
from bridge.daemon import ServeConfig, create
from bridge.status import parse_status
from bridge.transport import socket_drops
from conftest import handled, udp_bound, wait_until


_opened: list = []     # sockets and OSC clients this module's tests opened: see close_what_tests_open


def opened(thing):
    """`thing` (a socket or an OSC client), closed when the test that opened it ends."""
    _opened.append(thing)
    return thing


@pytest.fixture(autouse=True)
def close_what_tests_open():
    before = len(_opened)
    yield
    while len(_opened) > before:
        _opened.pop().close()


class Listener:
    """A UDP socket collecting every OSC message sent to it."""

    def __init__(self):
        self.sock = opened(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.sizes: list[int] = []

    def collect(self, seconds: float) -> list[OscMessage]:
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                d, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.sizes.append(len(d))
            out += list(OscBundle(d)) if d.startswith(b"#bundle") else [OscMessage(d)]
        return out

    def wait_for(self, address: str, seconds: float = 3.0) -> OscMessage:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for m in self.collect(0.1):
                if m.address == address:
                    return m
        raise AssertionError(f"no {address} within {seconds} s")


def frame_number(listener: Listener) -> int:
    """The newest frame number the daemon has sent (older datagrams drained first)."""
    frames = [m.params[0] for m in listener.collect(0.3) if m.address == "/motion/frame"]
    assert frames, "no frames"
    return max(frames)


@pytest.fixture(scope="module")
def daemon(solo_model):
    out = Listener()
    d = create(ServeConfig(port=0, out_port=out.port, glide=0.0, dashboard="off"))
    d.start()
    d.listener = out
    yield d
    d.stop()
    out.sock.close()


@pytest.fixture
def client(daemon):
    c = SimpleUDPClient("127.0.0.1", daemon.address[1])
    yield c
    c.close()


def replies(client, seconds=0.6) -> list:
    try:
        return list(client.get_messages(seconds))
    except (socket.timeout, TimeoutError):
        return []


def test_frames_stream_at_the_frame_rate(daemon):
    listener = daemon.listener
    listener.collect(0.2)
    msgs = listener.collect(1.0)
    frames = [m.params for m in msgs if m.address == "/motion/frame"]
    assert 25 <= len(frames) <= 35
    assert [f[0] for f in frames] == list(range(frames[0][0], frames[0][0] + len(frames)))
    pose = next(m for m in msgs if m.address == "/motion/1/pose")
    assert len(pose.params) == 63 and all(isinstance(v, float) for v in pose.params)
    emotion = next(m for m in msgs if m.address == "/motion/1/emotion")
    assert len(emotion.params) == 7 and sum(emotion.params) == pytest.approx(1, abs=1e-3)
    assert max(listener.sizes) <= 1472


def test_ping_status_subscribe_unsubscribe(daemon, client):
    client.send_message("/bridge/ping", [42])
    (pong,) = [m for m in replies(client) if m.address == "/bridge/pong"]
    assert pong.params == [42]
    assert wait_until(lambda: daemon.snapshot.version)       # the status thread has published once
    client.send_message("/bridge/status", [])
    status = next(m for m in replies(client) if m.address == "/bridge/status")
    snapshot = parse_status(status.params[0])
    assert snapshot.labels[1] == "happy" and snapshot.fps_target == 30
    # frames are computed ahead of their deadline (and rehearsed where that fits), in at most half a
    # period (the first, cold steps are slow: the lead starts out long)
    assert 0 < snapshot.lead_ms and 0 <= snapshot.rehearsal_ms
    assert snapshot.lead_ms + snapshot.rehearsal_ms <= 1000 / 30 / 2 + 0.01
    sub = Listener()
    client.send_message("/bridge/subscribe", [sub.port])
    schema = sub.wait_for("/motion/schema")
    assert schema.params[0] == "canonical" and schema.params[2].startswith("pelvis,spine")
    sub.wait_for("/motion/frame")
    sub.wait_for("/bridge/status", 2.0)            # the once-a-second heartbeat
    client.send_message("/bridge/unsubscribe", [sub.port])
    handled(client, daemon)
    sub.collect(0.2)
    assert not [m for m in sub.collect(0.5) if m.address == "/motion/frame"]


def test_every_input_address_lands_in_the_engine(daemon, client):
    e = daemon.engine
    send = client.send_message
    send("/emotion", [0, 1, 0, 0, 0, 0, 0]); handled(client, daemon)
    assert e.target[0, 1] == 1
    send("/emotion", ["sadness", 1.0]); handled(client, daemon)
    assert e.target[0, 2] == 1
    send("/emotion/angry", 1); handled(client, daemon)
    assert e.target[0, 3] == pytest.approx(0.5)
    send("/emotion/va", [0.8, 0.5]); handled(client, daemon)
    assert e.target[0].argmax() == 1
    send("/emotion/a", ["happy", 1.0]); send("/emotion/b", ["tired", 1.0]); send("/mix", 0.5); handled(client, daemon)
    assert e.target[0, 1] == pytest.approx(0.5) and e.target[0, 6] == pytest.approx(0.5)
    for address, value in [("/variance", 4.0), ("/temperature", 0.75), ("/k", 2), ("/emotion_weight", 1.5)]:
        send(address, value)
    send("/sampler", "dynamic"); send("/glide", 0.0); send("/mode", "solo"); send("/seed", 7); handled(client, daemon)
    p = e.params[0]
    assert (p.variance, p.temperature, p.k, p.emotion_weight, p.sampler) == (4.0, 0.75, 2.0, 1.5, "dynamic")
    send("/performer/1/emotion", ["proud", 1.0]); handled(client, daemon)
    assert e.target[0, 4] == 1
    send("/wek/inputs", [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]); handled(client, daemon)
    assert e.target[0, 6] == 1
    poses = e.poses_received
    send("/pose/layout", "coco17"); handled(client, daemon)
    send("/pose", list(np.random.rand(34))); handled(client, daemon)
    send("/poses/arr", [640, 480, 1, 0.9] + list(np.random.rand(51) * 400))
    send("/mediapipe/pose", [1] + list(np.random.rand(132))); handled(client, daemon)
    assert e.poses_received == poses + 3
    send("/pose/layout", "mediapipe33")
    before = frame_number(daemon.listener)
    send("/fps", 60); handled(client, daemon, frames=10)
    msgs = daemon.listener.collect(1.0)
    n = len([m for m in msgs if m.address == "/motion/frame"])
    send("/fps", 30); send("/reset", []); send("/sampler", "emotion"); handled(client, daemon)
    assert n >= 50, n
    assert frame_number(daemon.listener) > before
    assert not [m for m in replies(client, 0.2) if m.address == "/bridge/error"]


def test_the_last_of_a_fast_burst_of_commands_is_the_one_that_holds(daemon, client):
    # both the receive thread and, as each frame starts, the frame thread take datagrams from the
    # socket: they must still be applied in the order they were sent
    for i in range(1, 401):
        client.send_message("/variance", float(i))
    handled(client, daemon)
    assert daemon.engine.params[0].variance == 400.0
    client.send_message("/variance", 3.0)
    handled(client, daemon)


def build(address: str, *args) -> bytes:
    """A datagram as python-osc, a peer written by others, builds it."""
    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a)
    return builder.build().dgram


def test_bad_input_is_refused_with_what_is_valid_and_the_stream_goes_on(daemon):
    """Each error is counted and shown whole in the status; the reply to the sender says it too,
    cut to the size of the request (a reply never carries more bytes than its request)."""
    before = frame_number(daemon.listener)
    raw = opened(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    raw.bind(("127.0.0.1", 0))
    raw.settimeout(1.0)
    target = ("127.0.0.1", daemon.address[1])
    cases = [
        (b"\x00\x01garbage", "not an OSC packet"),
        (b"/emotion\x00\x00\x00\x00,fff\x00\x00\x00\x00", "shorter than its type tags"),
        (build("/emotion", "furious", 1.0), "unknown emotion 'furious'; this model knows: normal"),
        (build("/emotion", *[float("nan")] * 7), "NaN"),
        (build("/emotion", 1.0, 2.0), "takes 7 weights"),
        (build("/variance", "high"), "expected numbers"),
        (build("/mode", "partner"), "serve --partner for partner and duet"),
        (build("/dance/faster", 1.0), "unknown address /dance/faster"),
        (build("/mix", 2.0), "/mix must be between 0 and 1, got 2"),
        (build("/emotion/va", 2.0, 2.0), "/emotion/va must be between -1 and 1"),
        (build("/performer/3/glide", 1.0), "performers are numbered from 1 to 1"),
        (b"/x\x00\x00,f\x00\x00" + b"\x00" * 60_000, "bytes left over"),                   # oversized
    ]
    for datagram, expected in cases:
        seen = len(daemon.stats.recent_errors) and daemon.stats.recent_errors[-1]
        raw.sendto(datagram, target)
        assert wait_until(lambda: daemon.stats.recent_errors and daemon.stats.recent_errors[-1] is not seen)
        assert expected in daemon.stats.recent_errors[-1][1], (datagram[:40], daemon.stats.recent_errors[-1])
        try:
            reply = raw.recvfrom(65536)[0]
        except socket.timeout:            # too small a request to carry even an empty error
            assert len(datagram) < 24, datagram
            continue
        assert len(reply) <= len(datagram)
        text = OscMessage(reply).params[0]
        assert expected.startswith(text.rstrip("…")[:len(expected)]) or text.rstrip("…") in daemon.stats.recent_errors[-1][1]
        time.sleep(0.25)        # error replies are rate-limited per sender
    assert daemon.stats.errors["internal"] == 0
    assert frame_number(daemon.listener) > before + 10


def test_a_flood_of_garbage_does_not_stop_the_frames_and_its_sender_is_barred(daemon, client, monkeypatch):
    # the bar outlasts the test however slowly a loaded machine runs it
    monkeypatch.setattr(intake, "BAR_S", 60.0)
    listener = daemon.listener
    raw = opened(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    raw.bind(("127.0.0.1", 0))
    sender, to = raw.getsockname(), ("127.0.0.1", daemon.address[1])

    def flood(most: int, seconds: float) -> int:
        start, sent = time.monotonic(), 0
        while time.monotonic() - start < seconds and sent < most:
            raw.sendto(b"/flood\x00\x00,s\x00\x00x\x00\x00" if sent % 2 else b"junk", to)
            sent += 1
        return sent

    sent = flood(12_000, 1.0)
    frames, deadline = [], time.monotonic() + 5.0      # those sent during the flood wait in the socket
    while len(frames) < 25 and time.monotonic() < deadline:
        frames += [m for m in listener.collect(0.2) if m.address == "/motion/frame"]
    assert len(frames) >= 25, f"{len(frames)} frames within 5 s of a flood of {sent} datagrams"
    # refused a few dozen times in a row, the sender is barred
    assert daemon.stats.errors["barred sender"] == 1, dict(daemon.stats.errors)
    assert sender in daemon.transport.intake.barred
    if daemon.transport.kernel_filter:
        # from then on the kernel drops its datagrams: the daemon never reads another one. (How many
        # of the first flood were queued before the filter went on depends on how soon the reader
        # woke, so the count is taken after a ping has been answered behind them.)
        def counts() -> tuple[int, int]:
            errors = daemon.stats.errors
            return errors["malformed"] + errors["unknown address"] + errors["barred"], socket_drops(daemon.transport.sock)
        handled(client, daemon)
        read, dropped = counts()
        again = flood(2_000, 10.0)
        handled(client, daemon)
        assert counts() == (read, dropped + again), f"before {read, dropped}, after {counts()}, {again} sent"
    # a performer on another port is heard as ever
    client.send_message("/variance", 2.5)
    handled(client, daemon)
    assert daemon.engine.params[0].variance == 2.5


def test_senders_outside_allow_are_ignored(solo_model):
    out = Listener()
    d = create(ServeConfig(port=0, out_port=out.port, allow="10.0.0.0/8"))
    d.start()
    try:
        c = opened(SimpleUDPClient("127.0.0.1", d.address[1]))
        c.send_message("/bridge/ping", [])
        c.send_message("/bridge/subscribe", [9])
        assert not replies(c, 0.5)
        assert d.stats.errors["denied"] == 2 and not d.subscribers.targets
        out.wait_for("/motion/frame")               # the configured output still streams
    finally:
        d.stop()


liblo = pytest.mark.skipif(not shutil.which("oscsend"), reason="liblo-tools (oscsend/oscdump) not installed")


@liblo
def test_liblo_peers_send_and_receive(daemon):
    dump_port = Listener()
    port = dump_port.port
    dump_port.sock.close()
    dump = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: udp_bound(port))          # oscdump is listening
        subprocess.run(["oscsend", "localhost", str(daemon.address[1]), "/bridge/subscribe", "i", str(port)], check=True)
        subprocess.run(["oscsend", "localhost", str(daemon.address[1]), "/emotion", "iiiiiii", "0", "0", "0", "1", "0", "0", "0"],
                       check=True)
        assert wait_until(lambda: daemon.engine.target[0, 3] == 1)
        subprocess.run(["oscsend", "localhost", str(daemon.address[1]), "/emotion/happy", "f", "1.0"], check=True)
        assert wait_until(lambda: daemon.engine.target[0, 1] == pytest.approx(0.5))
        made = daemon.stats.frames
        assert wait_until(lambda: daemon.stats.frames > made + 5)    # frames that oscdump will have seen
    finally:
        dump.terminate()
        text = dump.communicate(timeout=5)[0]
        opened(SimpleUDPClient("127.0.0.1", daemon.address[1])).send_message("/bridge/unsubscribe", [port])
    lines = text.splitlines()
    assert any(" /motion/frame if " in line for line in lines)
    assert any(" /motion/1/pose " + "f" * 63 in line for line in lines)
    assert any(line.split()[1] == "/motion/schema" for line in lines)


def test_serve_command_runs_headless_and_stops_cleanly(solo_model, tmp_path):
    out = Listener()
    config = tmp_path / "show.toml"
    config.write_text(f'out_port = {out.port}\nport = 0\nlayout = "coco17"\nspace = "normalised"\n')
    proc = subprocess.Popen([sys.executable, "-m", "bridge.cli", "serve", "--config", str(config), "--fps", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pose = out.wait_for("/motion/1/pose", 30.0)
        assert len(pose.params) == 17 * 3
        assert 0.0 < np.mean(pose.params[1::3]) < 1.0          # normalised image space
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "listening on OSC" in err and "stopped after" in err


# ---- hostile and unlucky input: the show never stops --------------------------------------------

def alive_and_streaming(daemon, client_port: int | None = None) -> None:
    """Frames still flow, every thread is making progress, and a ping is still answered."""
    before = frame_number(daemon.listener)
    assert wait_until(lambda: frame_number(daemon.listener) > before + 5)
    assert wait_until(lambda: daemon.health and all(v == "ok" for v in daemon.health.values())), daemon.health
    ping = opened(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    ping.settimeout(2.0)
    ping.sendto(build("/bridge/ping", 7), ("127.0.0.1", daemon.address[1]))
    assert OscMessage(ping.recvfrom(65536)[0]).params == [7]
    assert daemon.stats.errors["internal"] == 0 and daemon.stats.failed == 0


def test_every_packet_that_once_silenced_the_daemon_is_refused(daemon):
    from bridge.fuzz import repros
    raw = opened(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    raw.bind(("127.0.0.1", 0))
    raw.settimeout(0.05)
    refused = sum(daemon.stats.errors.values())
    for datagram in repros():
        raw.sendto(datagram, ("127.0.0.1", daemon.address[1]))
    assert wait_until(lambda: sum(daemon.stats.errors.values()) >= refused + len(repros()) - 4)   # pings are fine
    alive_and_streaming(daemon)
    sizes = []
    while True:
        try:
            sizes.append(len(raw.recvfrom(65536)[0]))
        except socket.timeout:
            break
    assert max(sizes) <= 1020          # the largest reply is the pong to the 1,020-byte ping: no bigger
    assert not daemon.subscribers.targets


@liblo
def test_liblo_oscsend_hostile_messages(daemon):
    port = str(daemon.address[1])
    for args in (["/performer/" + "7" * 5000 + "/reset"], ["/bridge/ping", "d", "1e300"],
                 ["/bridge/ping", "h", "1099511627776"], ["/emotion/va", "dd", "1e200", "1e200"],
                 ["/midi/cc", "fii", "nan", "1", "1"], ["/bridge/subscribe", "f", "inf"]):
        subprocess.run(["oscsend", "localhost", port, *args], check=True, capture_output=True)
    alive_and_streaming(daemon)


def test_numbers_that_overflow_cost_no_frame(daemon):
    """/wek/inputs 1e200 1e200 once made the engine fail every frame it met; now each is refused as
    it arrives, and frames flow on time meanwhile."""
    from bridge.fuzz import bundle, message, repros
    import struct as _struct
    # from six ports, 50 each: one port refused again and again would be barred (test_intake)
    ports = [opened(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) for _ in range(6)]
    raw = ports[0]
    wek = message("/wek/inputs", "dd", _struct.pack(">dd", 1e200, 1e200))
    refused = daemon.stats.errors["bad input"] + daemon.stats.errors["malformed"]
    missed = daemon.stats.missed
    for i in range(300):
        ports[i % 6].sendto(wek, ("127.0.0.1", daemon.address[1]))
    raw.sendto(bundle(*[wek] * 60), ("127.0.0.1", daemon.address[1]))
    raw.sendto(repros()[10], ("127.0.0.1", daemon.address[1]))      # 1,600 of them in one bundle
    assert wait_until(lambda: daemon.stats.errors["bad input"] + daemon.stats.errors["malformed"] >= refused + 300)
    alive_and_streaming(daemon)
    assert daemon.stats.missed - missed <= 2


def test_subscriptions_churn_while_frames_flow(solo_model):
    out = Listener()
    d = create(ServeConfig(port=0, out_port=out.port, dashboard="off", midi="none", subscribers=8))
    d.start()
    d.listener = out
    try:
        socks = [Listener() for _ in range(20)]
        c = opened(SimpleUDPClient("127.0.0.1", d.address[1]))
        end = time.monotonic() + 2.0
        n = 0
        while time.monotonic() < end:       # ~100 subscribe/unsubscribe pairs a second
            port = socks[n % 20].port
            c.send_message("/bridge/subscribe", [port])
            c.send_message("/bridge/unsubscribe", [port])
            n += 1
            time.sleep(0.01)
        for s in socks:                     # then more than the cap at once
            c.send_message("/bridge/subscribe", [s.port])
        assert wait_until(lambda: d.stats.errors["subscribers"] >= 12)
        assert len(d.subscribers.targets) == 8
        assert d.snapshot.subscriber_limit == 8
        alive_and_streaming(d)
        socks[0].wait_for("/motion/frame")
    finally:
        d.stop()


def test_unsubscribe_removes_only_the_callers_own(daemon):
    a, b = Listener(), Listener()
    target = ("127.0.0.1", daemon.address[1])
    a.sock.sendto(build("/bridge/subscribe"), target)
    b.sock.sendto(build("/bridge/subscribe"), target)
    assert wait_until(lambda: len(daemon.subscribers.targets) == 2)
    a.sock.sendto(build("/bridge/unsubscribe"), target)      # no port: the sender's own
    assert wait_until(lambda: daemon.subscribers.targets == (("127.0.0.1", b.port),))
    b.sock.sendto(build("/bridge/unsubscribe"), target)
    assert wait_until(lambda: not daemon.subscribers.targets)


def test_a_subscription_lapses_unless_renewed(solo_model):
    out = Listener()
    d = create(ServeConfig(port=0, out_port=out.port, dashboard="off", midi="none", subscription_s=1.0))
    d.start()
    try:
        sub = Listener()
        sub.sock.sendto(build("/bridge/subscribe"), ("127.0.0.1", d.address[1]))
        sub.wait_for("/motion/frame")
        assert wait_until(lambda: not d.subscribers.targets, timeout=5)
        sub.collect(0.2)
        assert not [m for m in sub.collect(0.3) if m.address == "/motion/frame"]
    finally:
        d.stop()


def test_the_watchdog_says_when_frames_stall_and_stops_the_daemon(solo_model):
    out = Listener()
    fatal = []
    d = create(ServeConfig(port=0, out_port=out.port, dashboard="off", midi="none", watchdog_s=1.0),
               on_fatal=fatal.append)
    stuck = __import__("threading").Event()
    tick = d.engine.tick
    d.engine.tick = lambda *a, **k: (stuck.wait(), tick(*a, **k))[1]    # a step that never returns
    d.start()
    try:
        out.wait_for("/motion/schema")
        assert wait_until(lambda: d.health.get("frames", "").startswith("stalled"))
        assert d.snapshot.threads["frames"].startswith("stalled")       # shown while it happens
        assert wait_until(lambda: fatal)
        assert "frames thread is stalled" in d.fatal and d.stop_event.is_set()
    finally:
        stuck.set()
        d.stop()


def test_a_subscribed_patch_sees_why_its_message_was_refused(daemon, client):
    patch = Listener()
    client.send_message("/bridge/subscribe", [patch.port])
    patch.wait_for("/motion/schema")
    client.send_message("/mix", [2.0])                 # 16 bytes: too small to carry the answer itself
    error = patch.wait_for("/bridge/error")
    assert error.params[0] == "/mix must be between 0 and 1, got 2"
    client.send_message("/bridge/unsubscribe", [patch.port])


def test_a_bundle_that_sets_the_pose_layout_then_sends_a_pose_is_understood(daemon, client):
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    bundle = OscBundleBuilder(IMMEDIATELY)
    layout = OscMessageBuilder("/pose/layout")
    layout.add_arg("coco17")
    bundle.add_content(layout.build())
    pose = OscMessageBuilder("/pose")
    for v in np.random.default_rng(1).random(34):
        pose.add_arg(float(v))
    bundle.add_content(pose.build())
    received, errors = daemon.engine.poses_received, daemon.stats.errors["bad input"]
    client.send(bundle.build())
    handled(client, daemon)
    assert daemon.engine.poses_received == received + 1 and daemon.stats.errors["bad input"] == errors
    client.send_message("/pose/layout", "mediapipe33")
    handled(client, daemon)


@liblo
def test_an_action_sent_by_oscsend_reaches_the_body_and_one_the_model_lacks_is_refused(action_model, daemon, client):
    d = create(ServeConfig(checkpoint=str(action_model), port=0, out_port=9, glide=0.0, midi="none", dashboard="off"))
    d.start()
    c = opened(SimpleUDPClient("127.0.0.1", d.address[1]))
    try:
        subprocess.run(["oscsend", "localhost", str(d.address[1]), "/action", "s", "walk-left"], check=True)
        assert wait_until(lambda: d.engine.actions == ["walk-left"])
        assert wait_until(lambda: d.snapshot.performers and d.snapshot.performers[0].action == "walk-left")
        assert d.snapshot.actions == ["bow", "walk-left"]
        c.send_message("/action", "moonwalk")
        assert [m for m in replies(c) if m.address == "/bridge/error"]     # cut to the request's size; whole below
        assert any("unknown action 'moonwalk'; this model knows none, bow, walk-left" in text
                   for _, text in d.stats.recent_errors)
        subprocess.run(["oscsend", "localhost", str(d.address[1]), "/action", "s", "none"], check=True)
        assert wait_until(lambda: d.engine.actions == [None])
    finally:
        d.stop()
    # the shipped model was trained without actions: it says so, and goes on
    client.send_message("/action", "walk")
    assert wait_until(lambda: any("/action: this model was not trained on actions" in text
                                  for _, text in daemon.stats.recent_errors))
    assert daemon.engine.actions == [None]
