"""A motionbridge daemon, from Python: a notebook, Blender, a test, `monitor`.

    from bridge.client import Client
    with Client("127.0.0.1", 7700) as bridge:          # subscribes on a port of its own
        print(bridge.schema.labels)                     # the running model's emotion labels
        bridge.emotion(happy=1.0)                       # /emotion happy 1
        bridge.set("energy", 1.5)                       # /energy 1.5
        frame = bridge.frame()                          # the next frame
        print(frame.poses.shape, frame.joint("head"))   # (bodies, points, 3); one joint of body 1

It subscribes (`/bridge/subscribe <its port>`) instead of binding the daemon's output port, so any
number of clients run beside a patch that holds 7701, and renews the subscription while it reads.
Frames arrive as numpy arrays in the daemon's output layout and space, with the point names the
schema gives. Nothing here runs a thread: the caller's reads move it along.
"""
from __future__ import annotations

import select
import socket
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from . import osc
from .status import Snapshot, parse_status

RENEW_S = 20.0           # a subscription lapses after the daemon's subscription_s (60 s by default)


@dataclass(frozen=True)
class Schema:
    """/motion/schema: what the frames hold."""
    layout: str
    space: str                     # metres (Y up) or normalised (y down)
    names: list[str]               # the points of a pose, in order
    labels: list[str]              # the emotion labels, in order
    bodies: int                    # bodies in a frame: performers × roles
    roles: list[str]               # each performer's bodies: ["dancer"], or ["lead", "partner"] in a duet show


@dataclass(frozen=True)
class Frame:
    index: int
    time: float                    # seconds since the daemon started
    poses: np.ndarray              # (bodies, points, 3)
    emotion: np.ndarray            # (bodies, labels): recognised in the generated motion (a partner: its pair's)
    target: np.ndarray             # (bodies, labels): the emotion asked for, after glide
    schema: Schema

    def joint(self, name: str, body: int = 1) -> np.ndarray:
        """One point of one body (counted from 1, as in the OSC addresses)."""
        return self.poses[body - 1, self.schema.names.index(name)]

    def role(self, body: int = 1) -> str:
        """What body `body` (from 1) is: "dancer", "lead" or "partner"."""
        return self.schema.roles[(body - 1) % len(self.schema.roles)]


class Client:
    def __init__(self, host: str = "127.0.0.1", port: int = 7700, listen: int = 0, timeout: float = 5.0):
        """Subscribe to the daemon at host:port and wait (up to `timeout` seconds) for its schema.
        `listen`: the local port frames come to (0: any free one)."""
        self.target = (socket.gethostbyname(host), port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(("127.0.0.1" if self.target[0].startswith("127.") else "0.0.0.0", listen))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.schema: Schema | None = None
        self.snapshot: Snapshot | None = None      # the latest /bridge/status (one a second)
        self.errors: deque[str] = deque(maxlen=20)  # the latest /bridge/error texts
        self._frames: deque[Frame] = deque(maxlen=64)
        self._partial: dict = {}
        self._renewed = 0.0
        if timeout:
            self.wait(lambda: self.schema is not None, timeout,
                      f"no daemon answered at {self.target[0]}:{self.target[1]} within {timeout:g} s; is "
                      f"`motionbridge serve` running there, with --allow covering this host?")

    # ---- sending ----------------------------------------------------------------------------

    def send(self, address: str, *args) -> None:
        """Any OSC message to the daemon (see the README's address table)."""
        self.sock.sendto(osc.message(address, *args), self.target)

    def emotion(self, weights: dict[str, float] | None = None, performer: int | None = None, **named: float) -> None:
        """Ask for an emotion by label names: emotion(happy=1), emotion({"not-confident": .5, "sad": .5})."""
        pairs = {**(weights or {}), **named}
        args = [x for name, w in pairs.items() for x in (name, float(w))]
        self.send(self._address("/emotion", performer), *args)

    def set(self, name: str, value: float | str, performer: int | None = None) -> None:
        """A live parameter (variance, energy, …), /sampler or /mode."""
        self.send(self._address(f"/{name}", performer), value if isinstance(value, str) else float(value))

    @staticmethod
    def _address(address: str, performer: int | None) -> str:
        return address if performer is None else f"/performer/{performer}{address}"

    def subscribe(self) -> None:
        self.send("/bridge/subscribe", self.port)
        self._renewed = time.monotonic()

    def close(self) -> None:
        try:
            self.send("/bridge/unsubscribe", self.port)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- receiving --------------------------------------------------------------------------

    def frame(self, timeout: float = 2.0) -> Frame:
        """The next whole frame (TimeoutError if none comes)."""
        self.wait(lambda: bool(self._frames), timeout, f"no frame within {timeout:g} s")
        return self._frames.popleft()

    def latest(self, timeout: float = 2.0) -> Frame:
        """The newest frame, skipping any that queued up (for a loop slower than the daemon's)."""
        self.poll()
        frame = self.frame(timeout)
        while self._frames:
            frame = self._frames.popleft()
        return frame

    def status(self, timeout: float = 3.0) -> Snapshot:
        """The daemon's status, asked for now."""
        before = self.snapshot
        self.send("/bridge/status")
        self.wait(lambda: self.snapshot is not before, timeout, f"no status within {timeout:g} s")
        return self.snapshot

    def wait(self, done, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(message)
            self.poll(min(left, 0.5))

    def poll(self, timeout: float = 0.0) -> None:
        """Read what has arrived (waiting up to `timeout` for the first datagram), and renew the
        subscription when it is due."""
        if time.monotonic() - self._renewed > RENEW_S or not self._renewed:
            try:
                self.subscribe()
            except OSError:            # nothing there yet (ICMP unreachable): the next poll tries again
                pass
        if timeout > 0:
            select.select([self.sock], [], [], timeout)
        while True:
            try:
                datagram = self.sock.recv(65536)
            except (BlockingIOError, ConnectionRefusedError):   # nothing more; or an ICMP "unreachable"
                return
            try:
                messages = osc.parse(datagram)
            except osc.OscError:
                continue
            for m in messages:
                self._take(m)

    def _take(self, m: osc.Message) -> None:
        address, args = m.address, m.args
        if address == "/motion/schema" and len(args) in (5, 6):
            layout, space, names, labels, bodies = args[:5]
            roles = args[5].split(",") if len(args) == 6 else ["dancer"]
            self.schema = Schema(layout, space, names.split(","), labels.split(",") if labels else [], int(bodies), roles)
            self._partial = {}
        elif address == "/motion/frame" and len(args) == 2:
            self._partial = {"index": int(args[0]), "time": float(args[1])}
        elif address == "/bridge/status" and args:
            try:
                self.snapshot = parse_status(args[0])
            except (ValueError, TypeError):
                pass
        elif address == "/bridge/error" and args:
            self.errors.append(str(args[0]))
        elif address.startswith("/motion/") and self._partial and self.schema is not None:
            _, _, n, what = address.split("/", 3) if address.count("/") == 3 else ("", "", "", "")
            if n.isdigit() and what in ("pose", "emotion", "target"):
                self._partial[(int(n), what)] = np.asarray(args, dtype=np.float32)
                self._complete()

    def _complete(self) -> None:
        s, p = self.schema, self._partial
        if len(p) < 2 + 3 * s.bodies:
            return
        try:
            poses = np.stack([p[(n, "pose")] for n in range(1, s.bodies + 1)]).reshape(s.bodies, -1, 3)
            emotion = np.stack([p[(n, "emotion")] for n in range(1, s.bodies + 1)])
            target = np.stack([p[(n, "target")] for n in range(1, s.bodies + 1)])
        except (KeyError, ValueError):      # a frame from before a schema change: skip it
            self._partial = {}
            return
        self._frames.append(Frame(p["index"], p["time"], poses, emotion, target, s))
        self._partial = {}
