"""`motionbridge bench serve` and `bench fuzz`: a real daemon in its own process, measured from outside.

Delivered frame rate, frame-interval jitter at the receiver, and the latency from an `/emotion`
change to the first frame whose `/motion/1/target` carries it; optionally under a flood of
hostile datagrams from a third process (`bridge.fuzz`): from one port (`serve`), or from many,
with memory, error counts and thread health read before and after (`fuzz`). Changes are sent at random moments within
the frame period, as a performer's would be, so the percentiles cover the whole period; one about
every quarter second gives some 200 a minute, enough for a p99 that is not simply the maximum.
At the end the daemon's own status adds how long its steps took and how early it started each
frame.

A frame's arrival is when the kernel put it in the receiver's socket (SO_TIMESTAMPNS, on Linux),
not when this process woke to read it: on a busy 2-core machine that wake-up alone varies by up
to a millisecond, and it is the measuring process's delay, not the daemon's.
"""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import osc
from .status import Snapshot, parse_status

ROOT = Path(__file__).resolve().parent.parent

SO_TIMESTAMPNS = 35    # Linux: stamp each datagram with the time it arrived (CLOCK_REALTIME)


def receive(sock: socket.socket) -> tuple[bytes, float]:
    """A datagram and when it arrived, in time.time() seconds: the kernel's stamp where the
    socket has SO_TIMESTAMPNS on, else now."""
    datagram, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return datagram, seconds + nanoseconds * 1e-9
    return datagram, time.time()


def free_port(kind: str = "udp") -> int:
    """A UDP (or TCP) port on the loopback that nobody is using right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_daemon(port: int, out_port: int, performers: int = 1, fps: float = 30.0, cwd: str | None = None,
                 extra: tuple[str, ...] = ()) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bridge.cli", "serve", "--port", str(port), "--out-port",
                             str(out_port), "--performers", str(performers), "--fps", str(fps), "--glide", "0",
                             "--dashboard", "off", "--midi", "none", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd,
                            env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})


def frame_listener() -> socket.socket:
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if sys.platform == "linux":
        listen.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    listen.bind(("127.0.0.1", 0))
    return listen


def wait_for_frames(listen: socket.socket, daemon: subprocess.Popen, seconds: float = 60.0) -> None:
    """Until the model has loaded and frames flow, then drop what queued up meanwhile."""
    listen.settimeout(0.1)
    deadline = time.monotonic() + seconds
    while True:
        if daemon.poll() is not None:
            raise RuntimeError(f"the daemon exited with status {daemon.returncode} before sending frames")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the daemon sent no frames within {seconds:g} s")
        try:
            listen.recvfrom(65536)
            break
        except socket.timeout:
            continue
    listen.settimeout(0.002)
    while True:
        try:
            listen.recvfrom(65536)
        except socket.timeout:
            return


@dataclass
class Probe:
    """What a performer would see: frames as they arrive, and how long an /emotion change sent
    from its own port takes to show in a frame's /motion/1/target."""
    arrivals: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lost: int = 0                      # changes that no frame showed within a second

    def run(self, listen: socket.socket, control: socket.socket, port: int, fps: float,
            going: Callable[[], bool], change_every: float = 0.25, labels: int = 7) -> "Probe":
        phase = np.random.default_rng(0)
        want, sent_at, next_change = None, 0.0, time.perf_counter() + change_every
        while going():
            now = time.perf_counter()
            if want is not None and time.time() - sent_at > 1.0:
                self.lost += 1
                want, next_change = None, now
            if want is None and now >= next_change:
                want = 1 if (len(self.latencies) + self.lost) % 2 == 0 else 0
                weights = [0.0] * labels
                weights[want] = 1.0
                sent_at = time.time()              # the clock the arrival stamps are on
                control.sendto(osc.message("/emotion", *weights), ("127.0.0.1", port))
            # wait for the next frame or until the next change is due, not in short polls: on a
            # 2-core machine a receiver that keeps waking takes time from the daemon it measures
            listen.settimeout(max(1e-4, next_change - now) if want is None else 0.1)
            try:
                datagram, t = receive(listen)
                messages = osc.parse(datagram)
            except (socket.timeout, osc.OscError):
                continue
            for m in messages:
                if m.address == "/motion/frame":
                    self.arrivals.append(t)
                elif m.address == "/motion/1/target" and want is not None and len(m.args) > want and m.args[want] > 0.999:
                    self.latencies.append(t - sent_at)
                    want, next_change = None, time.perf_counter() + change_every + phase.uniform(0, 1 / fps)
        return self

    def summary(self, fps: float, seconds: float | None = None) -> dict:
        arrivals = np.array(self.arrivals)
        intervals = np.diff(arrivals) if len(arrivals) > 1 else np.zeros(1)
        period = 1.0 / fps
        delivered = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
        lat = np.array(self.latencies) * 1e3
        pct = (lambda q: float(np.percentile(lat, q))) if len(lat) else (lambda q: float("nan"))
        return {
            "fps_target": fps, "fps_delivered": delivered, "fps_ratio": delivered / fps,
            "frames": len(arrivals), "frames_expected": int(round(seconds * fps)) if seconds else None,
            "max_gap_ms": float(intervals.max() * 1e3),
            "jitter_p50_ms": float(np.percentile(np.abs(intervals - period), 50) * 1e3),
            "jitter_p99_ms": float(np.percentile(np.abs(intervals - period), 99) * 1e3),
            "change_to_frame_p50_ms": pct(50), "change_to_frame_p99_ms": pct(99),
            "change_to_frame_max_ms": float(lat.max()) if len(lat) else float("nan"),
            "changes": len(lat), "changes_lost": self.lost, "frame_period_ms": period * 1e3,
        }


def fuzzer(port: int, rate: float, ports: int, packets: int, seed: int = 0) -> subprocess.Popen:
    """A separate process firing bridge.fuzz's hostile corpus."""
    return subprocess.Popen([sys.executable, "-m", "bridge.fuzz", "--port", str(port), "--rate", str(rate),
                             "--ports", str(ports), "--packets", str(packets), "--seed", str(seed)],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})


class Pages:
    """`count` browser pages' worth of WebSocket clients on the web view, each reading every frame it
    is sent, on threads of this process: how many frames a second each got."""

    def __init__(self, port: int, count: int):
        from contextlib import ExitStack
        from websockets.sync.client import connect
        self.frames = [0] * count
        self.stop = threading.Event()
        self.open = ExitStack()
        self.sockets = [self.open.enter_context(connect(f"ws://127.0.0.1:{port}/ws", open_timeout=30))
                        for _ in range(count)]
        self.threads = [threading.Thread(target=self._read, args=(i,), daemon=True) for i in range(count)]
        self.started = time.perf_counter()
        for t in self.threads:
            t.start()

    def _read(self, i: int) -> None:
        ws = self.sockets[i]
        try:
            while not self.stop.is_set():
                if b'"type":"frame"' in ws.recv(timeout=1.0, decode=False):
                    self.frames[i] += 1
        except Exception:      # closed at the end, or timed out: the count says what arrived
            pass

    def close(self) -> float:
        """Stop; the frames a second the slowest page received."""
        elapsed = time.perf_counter() - self.started
        self.stop.set()
        self.open.close()
        return min(self.frames) / elapsed if self.frames else 0.0


def bench_serve(performers: int, seconds: float, fps: float = 30.0, flood: int = 0, change_every: float = 0.25,
                pages: int = 0) -> dict:
    """Delivered frames, jitter and change-to-frame latency, optionally while one port floods the
    daemon with `flood` hostile datagrams a second, or while `pages` browser pages read the web view."""
    listen, control, port = frame_listener(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM), free_port()
    web = free_port("tcp") if pages else 0
    daemon = start_daemon(port, listen.getsockname()[1], performers, fps, extra=("--web", str(web)) if pages else ())
    flooder = readers = None
    page_fps = None
    try:
        wait_for_frames(listen, daemon)
        if pages:
            readers = Pages(web, pages)
        if flood:
            flooder = fuzzer(port, flood, 1, int(flood * (seconds + 5)))
            time.sleep(1.0)
        end = time.perf_counter() + seconds
        probe = Probe().run(listen, control, port, fps, lambda: time.perf_counter() < end, change_every)
        inside = daemon_status(control, port)
    finally:
        if readers:
            page_fps = readers.close()
        if flooder:
            flooder.kill()
        daemon.terminate()
        daemon.wait(timeout=10)
        listen.close()
        control.close()
    return {"performers": performers, "seconds": seconds, "flood_per_s": flood, "pages": pages,
            "page_fps_min": page_fps, **probe.summary(fps),
            # the daemon's own view: how long its steps took and how early it started each frame
            "daemon_step_p50_ms": inside and inside.step_p50_ms, "daemon_step_p99_ms": inside and inside.step_p99_ms,
            "daemon_lead_ms": inside and inside.lead_ms}


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB; nan where there is no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def bench_fuzz(packets: int, rate: float, ports: int, fps: float = 30.0, seed: int = 0, warm: float = 3.0) -> dict:
    """A real daemon under `packets` hostile datagrams from `ports` source ports at `rate` a
    second, while a performer on another port keeps changing the emotion: frames delivered against
    expected, the longest gap, whether each change still lands in time, memory before and after,
    what the daemon counted, and whether every thread is still alive."""
    listen, control, port = frame_listener(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM), free_port()
    with tempfile.TemporaryDirectory() as scratch:     # /midi/learn from the fuzzer saves here, not in ours
        daemon = start_daemon(port, listen.getsockname()[1], 1, fps, cwd=scratch)
        fire = None
        try:
            wait_for_frames(listen, daemon)
            Probe().run(listen, control, port, fps, lambda t=time.perf_counter() + warm: time.perf_counter() < t)
            rss_before = rss_mb(daemon.pid)
            before = daemon_status(control, port)
            started = time.perf_counter()
            fire = fuzzer(port, rate, ports, packets, seed)
            probe = Probe().run(listen, control, port, fps, lambda: fire.poll() is None)
            seconds = time.perf_counter() - started
            sent = int(fire.stdout.read().strip() or 0)
            time.sleep(1.0)                              # let the daemon finish what is in its socket
            status = daemon_status(control, port)
            rss_after = rss_mb(daemon.pid)
            alive = daemon.poll() is None
        finally:
            if fire and fire.poll() is None:
                fire.kill()
            daemon.terminate()
            daemon.wait(timeout=10)
            listen.close()
            control.close()
    status, before = status or Snapshot(), before or Snapshot()
    counted = {k: v - before.errors.get(k, 0) for k, v in status.errors.items()}
    return {"packets": packets, "sent": sent, "rate": rate, "ports": ports, "seconds": seconds,
            **probe.summary(fps, seconds),
            "missed_frames": status.missed - before.missed, "failed_frames": status.failed - before.failed,
            "rss_before_mb": rss_before, "rss_after_mb": rss_after, "rss_growth_mb": rss_after - rss_before,
            "errors": counted, "kernel_drops": status.kernel_drops - before.kernel_drops, "barred": status.barred,
            "threads": status.threads, "answering": bool(status.version), "process_alive": alive,
            "threads_alive": bool(status.version) and alive and all(v == "ok" for v in status.threads.values())}


def daemon_status(sock: socket.socket, port: int) -> Snapshot | None:
    """The daemon's /bridge/status snapshot, asked for on `sock`; None if it does not answer."""
    sock.settimeout(1.0)
    sock.sendto(osc.message("/bridge/status"), ("127.0.0.1", port))
    try:
        while True:
            for m in osc.parse(sock.recvfrom(65536)[0]):
                if m.address == "/bridge/status":
                    return parse_status(m.args[0])
    except (socket.timeout, osc.OscError):
        return None
