"""The daemon: OSC in on one thread, the frame loop on another, a dashboard on the main thread.

The receive thread parses and validates, answers pings, subscriptions and errors, and hands
commands to the engine's queue; it never touches engine state. The frame thread waits on the
clock, takes whatever datagrams are still waiting in the socket as a frame starts (the same way,
under the same lock, so order holds), ticks the engine, sends the frame and publishes a snapshot;
it never waits on a socket (sends are non-blocking UDP), a log handler or the dashboard.
"""
from __future__ import annotations

import collections
import ipaddress
import json
import logging
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import osc
from .clock import FrameClock, Tick
from .engine import Engine, Frame
from .midi import Event, MidiInputs
from .midimap import MidiMap, preset
from .output import OutputFormat
from .protocol import ProtocolError, interpret

log = logging.getLogger(__name__)

RCVBUF = 4 << 20
MAX_PACKETS_PER_SENDER = 2000     # per second per (address, port); beyond that, dropped unread
MAX_ERROR_REPLIES = 5             # per second per sender
PENDING_LIMIT = 16                # datagrams the frame thread takes from the socket as a frame starts
VERSION = "0.1.0"
LEAD_START = 0.005                # seconds before a deadline the first frames are computed
REHEARSAL_START = 0.003           # seconds before the lead the first frames are rehearsed
LATE_ALLOWANCE = 0.001            # seconds the slowest 1 % of steps may send their frame late


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"           # listen address; 0.0.0.0 to accept from the network
    port: int = 7700
    out_host: str = "127.0.0.1"       # frames always go here
    out_port: int = 7701
    fps: float = 30.0
    performers: int = 1
    checkpoint: str = ""              # empty: the shipped solo model
    device: str = "auto"
    sampler: str = "emotion"
    variance: float = 3.0
    temperature: float = 1.0
    energy: float = 1.0               # pace asked of the body, times the emotion's typical pace
    glide: float = 1.0                # seconds an emotion change takes
    layout: str = "canonical"         # output layout: canonical, mediapipe33, coco17, body25, kinect25
    space: str = "metres"             # output space: metres (Y up) or normalised (image, y down)
    per_joint: bool = False           # also /motion/<n>/<joint> f f f
    pose_layout: str = "mediapipe33"  # layout of /pose input
    pose_space: str = "normalised"
    allow: str = "127.0.0.0/8"        # comma-separated CIDRs that may send and subscribe
    dashboard: str = "auto"           # auto (when stdout is a terminal), on, off
    midi: str = "auto"                # auto (every input), a name substring, or none
    midi_map: str = "nanokontrol2"    # nanokontrol2 | modwheel | a mapping TOML file (learn saves there)
    seed: int = 0
    stage: float = 3.0                # metres from the centre a dancer travels before turning back; 0: anywhere
    threads: int = 0                  # CPU threads for the model; 0: one up to 8 performers, torch's choice beyond


class RateLimiter:
    """Per-key token buckets: at most `rate` events a second, bursts up to `rate`."""

    def __init__(self, rate: float):
        self.rate = rate
        self.buckets: dict = {}

    def allow(self, key, now: float) -> bool:
        tokens, last = self.buckets.get(key, (self.rate, now))
        tokens = min(self.rate, tokens + (now - last) * self.rate)
        ok = tokens >= 1.0
        self.buckets[key] = (tokens - 1.0 if ok else tokens, now)
        if len(self.buckets) > 4096:          # a spoofed-source flood must not grow memory
            self.buckets.clear()
        return ok


@dataclass
class Stats:
    """Counters written by the two threads (each field by one of them) and read for snapshots."""
    frames: int = 0
    missed: int = 0
    intervals: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    steps: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    rehearsals: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    packets_in: int = 0
    messages_in: int = 0
    messages_out: int = 0
    datagrams_out: int = 0
    send_failures: int = 0
    errors: collections.Counter = field(default_factory=collections.Counter)
    recent_errors: collections.deque = field(default_factory=lambda: collections.deque(maxlen=6))

    def error(self, kind: str, text: str) -> None:
        self.errors[kind] += 1
        self.recent_errors.append(f"{time.strftime('%H:%M:%S')} {text}")


def _percentile(values, q: float) -> float:
    return float(np.percentile(np.fromiter(values, float), q)) if values else 0.0


class Daemon:
    def __init__(self, config: ServeConfig, engine: Engine, output: OutputFormat, model_name: str, device: str):
        self.config, self.engine, self.output = config, engine, output
        self.model_name, self.device = model_name, device
        self.allow = [ipaddress.ip_network(c.strip(), strict=False) for c in config.allow.split(",") if c.strip()]
        self._allowed: dict[str, bool] = {}
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.bind((config.host, config.port))
        self.sock.setblocking(False)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.out.setblocking(False)
        self.subscribers: dict[tuple[str, int], float] = {}
        self.snapshot: dict = {}
        self._packet_limit = RateLimiter(MAX_PACKETS_PER_SENDER)
        self._error_limit = RateLimiter(MAX_ERROR_REPLIES)
        self._rates = {"in": 0.0, "out": 0.0}
        self._threads: list[threading.Thread] = []
        self._computing = threading.Lock()   # a frame being computed, or a datagram being taken (see receive)
        self.started = time.time()
        self.lead = LEAD_START
        self.rehearsal = REHEARSAL_START
        self.midi_map = load_midi_map(config.midi_map)
        self._midi_lock = threading.Lock()
        self.midi = MidiInputs(config.midi, self.on_midi)
        self.midi_learned = ""

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    # ---- sending ----------------------------------------------------------------------------

    def _send(self, datagram: bytes, target: tuple[str, int]) -> None:
        try:
            self.out.sendto(datagram, target)
            self.stats.datagrams_out += 1
        except OSError:   # a full send buffer or an unreachable subscriber must not stop the frame
            self.stats.send_failures += 1

    def targets(self) -> list[tuple[str, int]]:
        return [(self.config.out_host, self.config.out_port), *self.subscribers]

    def reply_error(self, sender: tuple | None, text: str, kind: str = "bad input") -> None:
        self.stats.error(kind, text)
        log.debug("error from %s: %s", sender, text)
        if sender and self._error_limit.allow(sender[0], time.monotonic()):
            self._send(osc.message("/bridge/error", text), sender)

    # ---- receiving --------------------------------------------------------------------------

    def allowed(self, host: str) -> bool:
        # remembered per address: parsing one costs more than the rest of dropping a flood's packet
        ok = self._allowed.get(host)
        if ok is None:
            try:
                ip = ipaddress.ip_address(host)
                ok = any(ip in net for net in self.allow)
            except ValueError:
                ok = False
            if len(self._allowed) > 4096:     # a spoofed-source flood must not grow memory
                self._allowed.clear()
            self._allowed[host] = ok
        return ok

    def _receive_loop(self) -> None:
        waiting = selectors.DefaultSelector()
        waiting.register(self.sock, selectors.EVENT_READ)
        while not self.stop_event.is_set():
            if waiting.select(timeout=0.2):
                with self._computing:         # stand aside while a frame is computed
                    self.receive(1)
        waiting.close()

    def receive(self, limit: int) -> None:
        """Take up to `limit` datagrams waiting in the socket, without blocking. Only ever with
        `_computing` held: the receive thread and the frame thread both take datagrams, and the
        lock keeps them in the order they arrived."""
        for _ in range(limit):
            try:
                datagram, sender = self.sock.recvfrom(65536)
            except OSError:                   # nothing waiting (BlockingIOError), or closed on stop
                return
            self.stats.packets_in += 1
            if not self.allowed(sender[0]):
                self.stats.error("denied", f"{sender[0]} is not in --allow; packet dropped")
                continue
            if not self._packet_limit.allow(sender, time.monotonic()):   # per address and port
                self.stats.errors["flood"] += 1
                continue
            self.handle_datagram(datagram, sender)

    def handle_datagram(self, datagram: bytes, sender: tuple[str, int]) -> None:
        try:
            messages = list(osc.parse(datagram))
        except osc.OscError as e:
            self.reply_error(sender, f"{e} ({len(datagram)} bytes)", "malformed")
            return
        for m in messages:
            self.stats.messages_in += 1
            if m.address.startswith("/bridge/"):
                self._bridge(m, sender)
                continue
            if m.address.startswith("/midi/"):
                self._midi_osc(m, sender)
                continue
            try:
                for command in interpret(m.address, m.args, self.engine.labels, sender, self.engine.pose_layout):
                    self.engine.submit(command)
            except ProtocolError as e:
                self.reply_error(sender, str(e), "unknown address" if str(e).startswith("unknown address") else "bad input")

    def _bridge(self, m: osc.Message, sender: tuple[str, int]) -> None:
        if m.address == "/bridge/ping":
            self._send(osc.message("/bridge/pong", *[a for a in m.args if isinstance(a, (int, float, str))]), sender)
        elif m.address == "/bridge/subscribe":
            port = m.args[0] if m.args else sender[1]
            if isinstance(port, float) and port == int(port):
                port = int(port)
            if not isinstance(port, int) or not 0 < port < 65536:
                self.reply_error(sender, "/bridge/subscribe takes an optional port number (i)")
                return
            target = (sender[0], port)
            self.subscribers[target] = time.time()
            self._send(self.output.schema(self.engine.labels, self.engine.performers), target)
            log.info("subscribed %s:%d", *target)
        elif m.address == "/bridge/unsubscribe":
            port = m.args[0] if m.args and isinstance(m.args[0], int) else None
            for target in list(self.subscribers):
                if target[0] == sender[0] and (port is None or target[1] == port or target[1] == sender[1]):
                    del self.subscribers[target]
        elif m.address == "/bridge/status":
            self._send(osc.message("/bridge/status", json.dumps(self.snapshot)), sender)
        else:
            self.reply_error(sender, f"unknown address {m.address}", "unknown address")

    # ---- MIDI -------------------------------------------------------------------------------

    def on_midi(self, event: Event) -> None:
        """From MIDI port threads and /midi/cc: the map turns a control into engine commands."""
        with self._midi_lock:
            commands = self.midi_map.handle(*event, current=self.engine.current_values())
            learned = self.midi_map.learned
            self.midi_map.learned = None
        for c in commands:
            self.engine.submit(c)
        if learned is not None:
            source = f"CC {learned.cc}" if learned.cc is not None else f"note {learned.note}"
            self.midi_learned = f"{learned.param} ← {source} ch {learned.channel} on {learned.port}"
            path = self.config.midi_map if self.config.midi_map.endswith(".toml") else "motionbridge-midi.toml"
            try:
                self.midi_map.save(path)
                log.info("MIDI learn: %s (saved to %s)", self.midi_learned, path)
            except OSError as e:
                self.stats.error("midi", f"MIDI learn could not save {path}: {e}")

    def _midi_osc(self, m: osc.Message, sender: tuple[str, int]) -> None:
        """/midi/cc i i i and /midi/note i i i (channel 1-16, number, value), /midi/learn s."""
        if m.address == "/midi/learn":
            if len(m.args) != 1 or not isinstance(m.args[0], str):
                self.reply_error(sender, "/midi/learn takes one parameter name")
                return
            try:
                with self._midi_lock:
                    self.midi_map.learn(m.args[0])
            except ValueError as e:
                self.reply_error(sender, str(e))
            return
        kind = {"/midi/cc": "cc", "/midi/note": "note"}.get(m.address)
        if kind is None:
            self.reply_error(sender, f"unknown address {m.address}", "unknown address")
            return
        ok = len(m.args) == 3 and all(isinstance(a, (int, float)) and not isinstance(a, bool) and a == int(a) for a in m.args)
        channel, number, value = (int(a) for a in m.args) if ok else (0, 0, 0)
        if not ok or not (1 <= channel <= 16 and 0 <= number <= 127 and 0 <= value <= 127):
            self.reply_error(sender, f"{m.address} takes channel (1-16), number (0-127), value (0-127) as i i i")
            return
        self.on_midi((f"osc:{sender[0]}", kind, channel, number, value))

    def midi_snapshot(self) -> dict:
        with self._midi_lock:
            current = self.engine.current_values()
            controls = [{"param": m.param, "source": (f"CC {m.cc}" if m.cc is not None else f"note {m.note}")
                         + (f" ch {m.channel}" if m.channel else ""),
                         "value": current.get(m.param), "waiting": self.midi_map.waiting(i)}
                        for i, m in enumerate(self.midi_map.mappings)]
            return {"status": self.midi.status, "learning": self.midi_map.learning, "learned": self.midi_learned,
                    "controls": controls}

    # ---- the frame loop ---------------------------------------------------------------------

    def _frame_loop(self) -> None:
        clock = FrameClock(self.engine.fps)
        last_tick_time, next_snapshot, next_status, next_schema = None, 0.0, 0.0, 0.0
        counted = {"in": 0, "out": 0, "t": time.perf_counter()}
        while not self.stop_event.is_set():
            tick = clock.wait(self.stop_event, early=self.lead + self.rehearsal)
            if self.stop_event.is_set():
                break
            self.stats.missed += tick.missed
            try:
                frame, datagrams, sent = self._frame(tick, clock)
            except Exception:  # a failed step skips one frame; the show goes on
                log.exception("frame %d failed", tick.index)
                self.stats.error("engine", f"frame {tick.index} failed (see log)")
                continue
            if last_tick_time is not None:
                self.stats.intervals.append(sent - last_tick_time)
            last_tick_time = sent
            self.stats.messages_out += len(datagrams)
            self.stats.frames += 1
            if self.engine.pending_fps:
                clock.set_fps(self.engine.pending_fps)
                self.engine.fps, self.engine.pending_fps = self.engine.pending_fps, None
            now = time.perf_counter()
            if now >= next_snapshot:       # 4 Hz: what the dashboard and /bridge/status read
                self.snapshot = self.make_snapshot(frame)
                next_snapshot = now + 0.25
            if now >= next_status:
                elapsed = now - counted["t"]
                if elapsed > 0:
                    self._rates = {"in": (self.stats.messages_in - counted["in"]) / elapsed,
                                   "out": (self.stats.datagrams_out - counted["out"]) / elapsed}
                counted = {"in": self.stats.messages_in, "out": self.stats.datagrams_out, "t": now}
                self.lead = self._lead(clock.period)
                self.rehearsal = self._rehearsal(clock.period)
                status = osc.message("/bridge/status", json.dumps(self.snapshot))
                for target in self.subscribers:
                    self._send(status, target)
                next_status = now + 1.0
            if now >= next_schema:
                schema = self.output.schema(self.engine.labels, self.engine.performers)
                for target in self.targets():
                    self._send(schema, target)
                next_schema = now + 5.0

    def _frame(self, tick: Tick, clock: FrameClock) -> tuple[Frame, list[bytes], float]:
        """Rehearse, compute in the lead before the deadline, send on it, settle: how long a step
        takes moves when a frame is made, not when it arrives."""
        if self.rehearsal:
            rehearsed = time.perf_counter()
            self.engine.rehearse()
            self.stats.rehearsals.append(time.perf_counter() - rehearsed)
        clock.until(tick.deadline - self.lead, self.stop_event)
        started = time.perf_counter()
        # From here until the frame has left the receive thread waits. A step is a few hundred
        # small torch ops, each of which lets go of the GIL, and a flood being parsed would take
        # it at every one (and again when the frame is due to leave): the frame would stretch by
        # milliseconds. A command that arrives now misses this frame either way, so holding it
        # back until the frame has left costs it nothing.
        with self._computing:
            # Datagrams that arrived while the receive thread was still waking (on a virtual
            # machine that can take a few tenths of a millisecond) are taken now: a command sent
            # just before the frame started makes it.
            self.receive(PENDING_LIMIT)
            frame = self.engine.tick(tick.deadline, on_error=lambda c, text: self.reply_error(c.sender, text))
            datagrams = self.output.encode(frame)
            self.stats.steps.append(time.perf_counter() - started)
            clock.until(tick.deadline, self.stop_event)
            sent = time.perf_counter()
            for target in self.targets():
                for d in datagrams:
                    self._send(d, target)
            self.engine.settle()      # what the next frame needs, once this one has left
        return frame, datagrams, sent

    def _lead(self, period: float) -> float:
        """How early to start a frame. A change that arrives during the lead waits for the next
        frame, so the lead is as short as steady frames allow: long enough for a typical step, and
        for all but the slowest 1 % of steps to send their frame at most LATE_ALLOWANCE late
        (jitter a receiver does not notice; a frame later by the whole lead, it would)."""
        if not self.stats.steps:
            return LEAD_START
        typical, slow = np.percentile(np.fromiter(self.stats.steps, float), [50, 99])
        return float(min(period / 2, max(typical, slow - LATE_ALLOWANCE)))

    def _rehearsal(self, period: float) -> float:
        """How long before the lead to rehearse (see Engine.rehearse): as long as the slowest
        rehearsals take, since one that ran into the lead would delay the step. None at all (0)
        where that would not fit in the half period the lead leaves idle: frames that close
        together keep the caches warm anyway."""
        if not self.stats.rehearsals:
            return REHEARSAL_START
        slow = _percentile(self.stats.rehearsals, 99)
        return slow if self.lead + slow <= period / 2 else 0.0

    def make_snapshot(self, frame) -> dict:
        s, e, g = self.stats, self.engine, self.engine.generator
        pace = g.measured if g.measured is not None else np.zeros(e.performers)
        intervals = list(s.intervals)
        fps = 1.0 / float(np.mean(intervals)) if intervals else 0.0
        period = 1.0 / e.fps
        p = e.params[0]
        return {
            "version": VERSION, "uptime_s": round(time.time() - self.started, 1),
            "listen": "%s:%d" % self.address, "send_to": [f"{h}:{p_}" for h, p_ in self.targets()],
            "model": self.model_name, "device": self.device, "mode": e.mode,
            "fps_target": e.fps, "fps": round(fps, 2), "frames": s.frames, "missed": s.missed,
            "step_p50_ms": round(_percentile(s.steps, 50) * 1e3, 2), "step_p99_ms": round(_percentile(s.steps, 99) * 1e3, 2),
            "lead_ms": round(self.lead * 1e3, 2), "rehearsal_ms": round(self.rehearsal * 1e3, 2),
            "jitter_p99_ms": round(_percentile([abs(i - period) for i in intervals], 99) * 1e3, 2),
            "osc_in_per_s": round(self._rates["in"], 1), "osc_out_per_s": round(self._rates["out"], 1),
            "packets_in": s.packets_in, "errors": dict(s.errors), "recent_errors": list(s.recent_errors),
            "subscribers": [f"{h}:{p_}" for h, p_ in self.subscribers],
            "sampler": {"name": p.sampler, "variance": p.variance, "temperature": p.temperature,
                        "k": p.k, "emotion_weight": p.emotion_weight, "hold": p.hold, "energy": p.energy,
                        "glide": e.glide},
            "labels": e.labels, "poses_received": e.poses_received,
            "performers": [{"target": [round(float(v), 3) for v in e.target[i]],
                            "current": [round(float(v), 3) for v in frame.emotion[i]],
                            "recognised": [round(float(v), 3) for v in frame.recognised[i]],
                            "pace": round(float(pace[i]), 2), "pace_target": round(float(g.target[i]), 2)}
                           for i in range(e.performers)],
            "midi": self.midi_snapshot(),
        }

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.midi.start()
        for name, target in (("osc-in", self._receive_loop), ("frames", self._frame_loop)):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self.stop_event.set()
        self.midi.close()
        for t in self._threads:
            t.join(timeout=2.0)
        self.sock.close()
        self.out.close()


def load_midi_map(spec: str) -> MidiMap:
    if spec.endswith(".toml"):
        return MidiMap.load(spec) if Path(spec).exists() else MidiMap()
    return preset(spec)


def create(config: ServeConfig) -> Daemon:
    """Load the model and wire engine, output and sockets from a config."""
    from models import checkpoint
    from models.generate import SoloGenerator
    from models.sampling import SamplingParams
    from models.train import pick_device

    device = pick_device(config.device)
    path = config.checkpoint or checkpoint.default_checkpoint("solo")
    model, meta = checkpoint.load(path, device)
    if config.performers < 1:
        raise ValueError("--performers must be at least 1")
    params = SamplingParams(sampler=config.sampler, variance=config.variance, temperature=config.temperature,
                            energy=config.energy)
    generator = SoloGenerator(model, meta, performers=config.performers, seed=config.seed, stage=config.stage)
    engine = Engine(generator, fps=config.fps, glide=config.glide, params=params,
                    pose_layout=config.pose_layout, pose_space=config.pose_space)
    output = OutputFormat(config.layout, config.space, config.per_joint)
    name = f"{checkpoint.stem(path).name} ({model.n_params() / 1e6:.1f} M params, {len(meta['labels'])} labels)"
    return Daemon(config, engine, output, name, str(device))
