"""`motionbridge bench serve`: a real daemon in its own process, measured from outside.

Delivered frame rate, frame-interval jitter at the receiver, and the latency from an `/emotion`
change to the first frame whose `/motion/1/target` carries it; optionally under a flood of
10,000 garbage messages a second from a third process. Changes are sent at random moments within
the frame period, as a performer's would be, so the percentiles cover the whole period; one about
every quarter second gives some 200 a minute, enough for a p99 that is not simply the maximum.
At the end the daemon's own status adds how long its steps took and how early it started each
frame.

A frame's arrival is when the kernel put it in the receiver's socket (SO_TIMESTAMPNS, on Linux),
not when this process woke to read it: on a busy 2-core machine that wake-up alone varies by up
to a millisecond, and it is the measuring process's delay, not the daemon's.
"""
from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import time

import numpy as np

from . import osc

FLOOD = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port, rate = int(sys.argv[1]), int(sys.argv[2])
junk = [b"junk", b"/emotion\\x00\\x00\\x00\\x00,s\\x00\\x00x\\x00\\x00\\x00", b"/nowhere\\x00\\x00\\x00\\x00,f\\x00\\x00\\x00\\x00\\x00\\x00"]
start, n = time.perf_counter(), 0
while True:
    if n < (time.perf_counter() - start) * rate:
        s.sendto(junk[n % 3], ("127.0.0.1", port)); n += 1
    else:
        time.sleep(0.0005)
"""


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


def free_port() -> int:
    """A UDP port on the loopback that nobody is using right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bench_serve(performers: int, seconds: float, fps: float = 30.0, flood: int = 0, change_every: float = 0.25) -> dict:
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if sys.platform == "linux":
        listen.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    listen.bind(("127.0.0.1", 0))
    listen.settimeout(0.002)
    port = free_port()
    daemon = subprocess.Popen([sys.executable, "-m", "bridge.cli", "serve", "--port", str(port), "--out-port",
                               str(listen.getsockname()[1]), "--performers", str(performers), "--fps", str(fps),
                               "--glide", "0", "--dashboard", "off"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flooder = None
    control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:           # wait for the model to load and frames to flow
            try:
                listen.recvfrom(65536)
                break
            except socket.timeout:
                continue
        else:
            raise RuntimeError("the daemon sent no frames within 60 s")
        if flood:
            flooder = subprocess.Popen([sys.executable, "-c", FLOOD, str(port), str(flood)])
        time.sleep(1.0)
        while True:                                   # drop what queued up while we slept
            try:
                listen.recvfrom(65536)
            except socket.timeout:
                break
        arrivals, latencies = [], []
        labels = 7
        phase = np.random.default_rng(0)
        want, sent_at, next_change = None, 0.0, time.perf_counter() + change_every
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            now = time.perf_counter()
            if want is None and now >= next_change:
                want = 1 if len(latencies) % 2 == 0 else 0
                weights = [0.0] * labels
                weights[want] = 1.0
                sent_at = time.time()              # the clock the arrival stamps are on
                control.sendto(osc.message("/emotion", *weights), ("127.0.0.1", port))
            # wait for the next frame or until the next change is due, not in short polls: on a
            # 2-core machine a receiver that keeps waking takes time from the daemon it measures
            listen.settimeout(max(1e-4, next_change - now) if want is None else 0.1)
            try:
                datagram, t = receive(listen)
            except socket.timeout:
                continue
            try:
                messages = list(osc.parse(datagram))
            except osc.OscError:
                continue
            for m in messages:
                if m.address == "/motion/frame":
                    arrivals.append(t)
                elif m.address == "/motion/1/target" and want is not None and len(m.args) > want and m.args[want] > 0.999:
                    latencies.append(t - sent_at)
                    want, next_change = None, time.perf_counter() + change_every + phase.uniform(0, 1 / fps)
        inside = daemon_status(control, port)
    finally:
        if flooder:
            flooder.kill()
        daemon.terminate()
        daemon.wait(timeout=10)
        listen.close()
        control.close()
    arrivals = np.array(arrivals)
    intervals = np.diff(arrivals)
    period = 1.0 / fps
    delivered = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    lat = np.array(latencies) * 1e3
    return {
        "performers": performers, "seconds": seconds, "flood_per_s": flood, "fps_target": fps,
        "fps_delivered": delivered, "fps_ratio": delivered / fps,
        "jitter_p50_ms": float(np.percentile(np.abs(intervals - period), 50) * 1e3),
        "jitter_p99_ms": float(np.percentile(np.abs(intervals - period), 99) * 1e3),
        "change_to_frame_p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "change_to_frame_p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "change_to_frame_max_ms": float(lat.max()) if len(lat) else float("nan"),
        "changes": len(lat), "frame_period_ms": period * 1e3,
        # the daemon's own view: how long its steps took and how early it started each frame
        "daemon_step_p50_ms": inside.get("step_p50_ms"), "daemon_step_p99_ms": inside.get("step_p99_ms"),
        "daemon_lead_ms": inside.get("lead_ms"),
    }


def daemon_status(sock: socket.socket, port: int) -> dict:
    """The daemon's /bridge/status snapshot, asked for on `sock`; {} if it does not answer."""
    sock.settimeout(1.0)
    sock.sendto(osc.message("/bridge/status"), ("127.0.0.1", port))
    try:
        while True:
            for m in osc.parse(sock.recvfrom(65536)[0]):
                if m.address == "/bridge/status":
                    return json.loads(m.args[0])
    except (socket.timeout, osc.OscError):
        return {}
