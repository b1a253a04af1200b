"""The daemon: OSC in on one thread, the frame loop on another, the status on a third, and a
watchdog over them; the dashboard draws on the main thread.

- osc-in takes datagrams from the socket, decides which to read (`intake`), parses them with our
  own strict parser, answers pings, subscriptions and errors, and hands validated commands to the
  engine's queue; it never touches engine state.
- frames waits on the clock, takes the few small datagrams still waiting in the socket as a frame
  starts (the same way, under the same lock, so order holds), ticks the engine and sends the
  frame. It never waits on a socket (sends are non-blocking UDP), never logs except onto a queue,
  and never formats status or writes a file.
- status builds the snapshot (the dashboard, `/bridge/status`), sends it and the schema to
  subscribers, lets lapsed subscriptions go, sizes the lead, and saves what MIDI learn learned.
- watchdog notices a thread that stopped making progress, shows it in the status, and when the
  frames cannot recover, stops the daemon with `fatal` set (serve then exits with status 3, for a
  service manager to restart it).

Every loop catches what it did not expect, counts it, logs it through the queue, and goes on.
"""
from __future__ import annotations

import collections
import ipaddress
import json
import logging
import math
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import logqueue, osc
from .clock import FrameClock, Tick
from .engine import Engine, Frame
from .intake import Bounded, Intake, TokenBucket
from .midi import Event, MidiInputs
from .midimap import MidiMap, preset
from .output import OutputFormat
from .protocol import ProtocolError, interpret, whole_numbers

log = logging.getLogger(__name__)

RCVBUF = 4 << 20
MAX_PACKETS_PER_SENDER = 2000     # per second per (address, port); beyond that, dropped unread
MAX_ERROR_REPLIES = 5             # per second per sender
PENDING_LIMIT = 16                # datagrams the frame thread takes from the socket as a frame starts
PENDING_SIZE = 1472               # ... each no larger than this (a larger one waits for osc-in)
PENDING_S = 0.0005                # ... for at most this long
RECEIVE_S = 0.002                 # osc-in holds the frame lock for at most about this long at a time
GUARD_S = 0.0015                  # ... and starts no datagram this close to a frame's start
VERSION = "0.1.0"
LEAD_START = 0.005                # seconds before a deadline the first frames are computed
REHEARSAL_START = 0.003           # seconds before the lead the first frames are rehearsed
LATE_ALLOWANCE = 0.001            # seconds the slowest 1 % of steps may send their frame late
STALLED_S = 1.0                   # a thread that has not moved for this long is shown as stalled
RESET_AFTER = 3                   # frames failed in a row before the dancers are reset to recover
TEXT_LIMIT = 160                  # characters of an error text kept for the status


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
    budget: int = 2000                # datagrams a second read from all senders in bad standing together
    subscribers: int = 32             # most subscriptions at once
    subscription_s: float = 60.0      # a subscription lapses unless renewed (/bridge/subscribe again) within this
    watchdog_s: float = 10.0          # frames stalled this long: the daemon exits (status 3) to be restarted
    dashboard: str = "auto"           # auto (when stdout is a terminal), on, off
    midi: str = "auto"                # auto (every input), a name substring, or none
    midi_map: str = "nanokontrol2"    # nanokontrol2 | modwheel | a mapping TOML file (learn saves there)
    seed: int = 0
    stage: float = 3.0                # metres from the centre a dancer travels before turning back; 0: anywhere
    threads: int = 0                  # CPU threads for the model; 0: one up to 8 performers, torch's choice beyond

    def check(self) -> None:
        """Refuse settings that cannot work, before anything starts (ValueError, naming the setting)."""
        def need(ok: bool, text: str) -> None:
            if not ok:
                raise ValueError(text)
        need(0 <= self.port < 65536 and 0 < self.out_port < 65536, "port and out_port must be 0-65535")
        need(math.isfinite(self.fps) and 1 <= self.fps <= 240, f"fps must be between 1 and 240, got {self.fps:g}")
        need(1 <= self.performers <= 256, f"performers must be between 1 and 256, got {self.performers}")
        need(self.budget >= 1, "budget must be at least 1 datagram a second")
        need(0 <= self.subscribers <= 1024, "subscribers must be between 0 and 1024")
        need(math.isfinite(self.subscription_s) and self.subscription_s > 0, "subscription_s must be positive")
        need(math.isfinite(self.watchdog_s) and self.watchdog_s >= 1, "watchdog_s must be at least 1 second")
        self.networks()

    def networks(self) -> list:
        """`allow` as address ranges (ValueError naming the one that is not)."""
        ranges = []
        for cidr in filter(None, (c.strip() for c in self.allow.split(","))):
            try:
                ranges.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                raise ValueError(f"allow: {cidr!r} is not an address or CIDR range") from None
        return ranges


class Subscribers:
    """Where frames go besides the configured output: at most `limit` (address, port) pairs, each
    lapsing `ttl` seconds after it last subscribed. The frame thread reads `targets`, a tuple
    replaced whole on every change, so it never sees the set change under it."""

    def __init__(self, limit: int, ttl: float):
        self.limit, self.ttl = limit, ttl
        self._until: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()
        self.targets: tuple[tuple[str, int], ...] = ()

    def add(self, target: tuple[str, int], now: float) -> bool:
        """Subscribe or renew; False when full."""
        with self._lock:
            if target not in self._until and len(self._until) >= self.limit:
                return False
            self._until[target] = now + self.ttl
            self.targets = tuple(self._until)
            return True

    def remove(self, target: tuple[str, int]) -> bool:
        with self._lock:
            found = self._until.pop(target, None) is not None
            self.targets = tuple(self._until)
            return found

    def expire(self, now: float) -> list[tuple[str, int]]:
        with self._lock:
            gone = [t for t, until in self._until.items() if until < now]
            for t in gone:
                del self._until[t]
            self.targets = tuple(self._until)
            return gone


@dataclass
class Stats:
    """Counters written by the threads (each field by one of them, or atomically) and read for snapshots."""
    frames: int = 0
    missed: int = 0
    failed: int = 0
    intervals: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    steps: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    rehearsals: collections.deque = field(default_factory=lambda: collections.deque(maxlen=600))
    packets_in: int = 0
    messages_in: int = 0
    messages_out: int = 0
    datagrams_out: int = 0
    send_failures: int = 0
    replies_withheld: int = 0       # replies that would have been larger than their request
    kernel_drops: int = 0           # datagrams the socket's buffer had no room for (see socket_drops)
    errors: collections.Counter = field(default_factory=collections.Counter)
    recent_errors: collections.deque = field(default_factory=lambda: collections.deque(maxlen=6))

    def error(self, kind: str, text: str) -> None:
        """Count an error and keep its text (cut short) for the status; formats nothing."""
        self.errors[kind] += 1
        self.recent_errors.append((time.time(), text[:TEXT_LIMIT]))


def socket_drops(sock: socket.socket, last: int = 0) -> int:
    """How many datagrams the kernel dropped because the socket's buffer was full: the counter
    SO_RXQ_OVFL reports with each datagram, read once a second from /proc/net/udp (Linux) instead,
    so the receive loop pays nothing for it. Elsewhere `last`."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with open(table) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) > 12 and fields[9] == inode:
                        return int(fields[-1])
    except (OSError, ValueError):
        pass
    return last


def _percentile(values, q: float) -> float:
    values = list(values)           # a copy taken at once: another thread may be appending
    return float(np.percentile(values, q)) if values else 0.0


class Daemon:
    def __init__(self, config: ServeConfig, engine: Engine, output: OutputFormat, model_name: str, device: str,
                 on_fatal: Callable[[str], None] | None = None):
        self.config, self.engine, self.output = config, engine, output
        self.model_name, self.device = model_name, device
        self.on_fatal = on_fatal
        self.intake = Intake(config.networks(), MAX_PACKETS_PER_SENDER, config.budget)
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.fatal = ""                      # why the watchdog stopped the daemon, if it did
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._grow_buffer()
        self.sock.bind((config.host, config.port))
        self.sock.setblocking(False)
        self._peek = bytearray(1)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.out.setblocking(False)
        self.target = (config.out_host, config.out_port)
        self.subscribers = Subscribers(config.subscribers, config.subscription_s)
        self.pose_layout = engine.pose_layout   # the receive side's: a bundle may set it, then use it
        self.snapshot: dict = {}
        self.status_datagram = osc.message("/bridge/status", "{}")
        self.schema = output.schema(engine.labels, engine.performers)
        self._error_limit: Bounded = Bounded()
        self._reply_room = 0                  # bytes the datagram being handled may still be answered with
        self._rates = {"in": 0.0, "out": 0.0, "fps": 0.0}
        self._threads: dict[str, threading.Thread] = {}
        self.beats: dict[str, float] = {}     # thread → when it last made progress (monotonic)
        self.health: dict[str, str] = {}
        self._computing = threading.Lock()   # a frame being computed, or a datagram being taken (see receive)
        self._next_start = 0.0                # perf_counter() time the next frame starts (its rehearsal)
        self.started = time.time()
        self.lead = LEAD_START
        self.rehearsal = REHEARSAL_START
        self.last_frame: Frame | None = None
        self.midi_map = load_midi_map(config.midi_map)
        self._midi_lock = threading.Lock()
        self.midi = MidiInputs(config.midi, self.on_midi)
        self.midi_learned = ""
        self._midi_save: str | None = None    # a learned mapping waiting for the status thread to write it

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def _grow_buffer(self) -> None:
        """A deep receive buffer rides out bursts while a frame is computed. SO_RCVBUFFORCE passes
        the system's cap where we may (root); elsewhere SO_RCVBUF gets what the cap allows."""
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, option, RCVBUF)
                return
            except OSError:
                continue

    # ---- reporting ----------------------------------------------------------------------------

    def internal(self, where: str, error: BaseException) -> None:
        """Something we did not expect: counted, shown, logged through the queue; the loop goes on."""
        self.stats.error("internal", f"{where}: {type(error).__name__}: {error}")
        log.error("%s: unexpected %s", where, type(error).__name__, exc_info=error)

    # ---- sending ----------------------------------------------------------------------------

    def _send(self, datagram: bytes, target: tuple[str, int]) -> None:
        try:
            self.out.sendto(datagram, target)
            self.stats.datagrams_out += 1
        except OSError:   # a full send buffer or an unreachable subscriber must not stop the frame
            self.stats.send_failures += 1

    def _answer(self, datagram: bytes | None, sender: tuple[str, int]) -> None:
        """A reply to the datagram being handled: sent only if it fits in what that datagram's size
        leaves, so no request is answered with more bytes than it took to send."""
        if datagram is None or len(datagram) > self._reply_room:
            self.stats.replies_withheld += 1
            return
        self._reply_room -= len(datagram)
        self._send(datagram, sender)

    def targets(self) -> tuple[tuple[str, int], ...]:
        return (self.target, *self.subscribers.targets)

    def reply_error(self, sender: tuple | None, text: str, kind: str = "bad input") -> None:
        self.stats.error(kind, text)
        if sender is None:
            return
        limit = self._error_limit.touch(sender[0], lambda: TokenBucket(MAX_ERROR_REPLIES, time.monotonic()))
        if limit.take(time.monotonic()):
            self._answer(osc.reply("/bridge/error", text, self._reply_room), sender)

    # ---- receiving --------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        waiting = selectors.DefaultSelector()
        waiting.register(self.sock, selectors.EVENT_READ)
        while not self.stop_event.is_set():
            self.beats["osc-in"] = time.monotonic()
            try:
                if waiting.select(timeout=0.2):
                    # A datagram can take a millisecond to read, and the frame cannot start until
                    # it is done: none is started just before a frame is (see _frame).
                    gap = self._next_start - time.perf_counter()
                    if 0 < gap < GUARD_S:
                        time.sleep(gap)
                    with self._computing:         # stand aside while a frame is computed
                        self.receive(256, min(time.perf_counter() + RECEIVE_S, self._next_start - GUARD_S))
            except Exception as e:
                self.internal("osc-in", e)
        waiting.close()

    def receive(self, limit: int, until: float, largest: int = 65536) -> None:
        """Take up to `limit` datagrams waiting in the socket, without blocking, until the clock
        passes `until` or the next datagram is larger than `largest`. Only ever with `_computing`
        held: the receive thread and the frame thread both take datagrams, and the lock keeps them
        in the order they arrived. Under a flood most datagrams end at `admit`, so the loop up to
        there is kept to a few microseconds."""
        recvfrom, admit, clock, stats = self.sock.recvfrom, self.intake.admit, time.perf_counter, self.stats
        for _ in range(limit):
            if largest < 65536 and self._next_size() > largest:
                return
            try:
                datagram, sender = recvfrom(65536)
            except OSError:                   # nothing waiting (BlockingIOError), or closed on stop
                return
            stats.packets_in += 1
            now = clock()
            verdict = admit(sender, now)
            if verdict == "read":
                self.handle_datagram(datagram, sender)
                now = clock()
            else:
                stats.errors[verdict] += 1
            if now > until:
                return

    def _next_size(self) -> int:
        """The size of the next waiting datagram, without taking it (0 if none)."""
        try:
            return self.sock.recv_into(self._peek, 1, socket.MSG_PEEK | getattr(socket, "MSG_TRUNC", 0))
        except OSError:
            return 0

    def handle_datagram(self, datagram: bytes, sender: tuple[str, int]) -> None:
        self._reply_room = len(datagram)
        try:
            messages = osc.parse(datagram)
        except osc.OscError as e:
            self.intake.judged(sender, False)
            self.reply_error(sender, f"{e} ({len(datagram)} bytes)", "malformed")
            return
        good = True
        for m in messages:
            self.stats.messages_in += 1
            try:
                good &= self.handle_message(m, sender)
            except Exception as e:
                good = False
                self.internal(f"osc-in {osc.clip(m.address)}", e)
        self.intake.judged(sender, good)

    def handle_message(self, m: osc.Message, sender: tuple[str, int]) -> bool:
        """Apply or refuse one message; True if it was good."""
        if m.address.startswith("/bridge/"):
            return self._bridge(m, sender)
        if m.address.startswith("/midi/"):
            return self._midi_osc(m, sender)
        e = self.engine
        try:
            commands = interpret(m.address, m.args, e.labels, sender, self.pose_layout, e.performers, e.generator.modes)
        except ProtocolError as error:
            text = str(error)
            self.reply_error(sender, text, "unknown address" if text.startswith("unknown address") else "bad input")
            return False
        for command in commands:
            if command.name == "pose_layout":
                self.pose_layout = command.value
            e.submit(command)
        return True

    def _port(self, m: osc.Message, sender: tuple[str, int]) -> int | None:
        """The optional port argument of subscribe and unsubscribe (the sender's own by default)."""
        if not m.args:
            return sender[1]
        try:
            (port,) = whole_numbers(m.address, m.args, 1)
        except ProtocolError:
            port = 0
        if 0 < port < 65536:
            return port
        self.reply_error(sender, f"{m.address} takes an optional port number, 1-65535 (i)")
        return None

    def _bridge(self, m: osc.Message, sender: tuple[str, int]) -> bool:
        if m.address == "/bridge/ping":
            # the same bytes back under /bridge/pong (as long as /bridge/ping): never larger
            self._answer(osc._pad(b"/bridge/pong") + m.raw[16:], sender)
        elif m.address == "/bridge/subscribe":
            port = self._port(m, sender)
            if port is None:
                return False
            target = (sender[0], port)
            renewed = target in self.subscribers.targets
            if not self.subscribers.add(target, time.monotonic()):
                self.reply_error(sender, f"subscriber limit ({self.config.subscribers}) reached", "subscribers")
                return False
            self._send(self.schema, target)
            if not renewed:
                log.info("subscribed %s:%d", *target)
        elif m.address == "/bridge/unsubscribe":
            port = self._port(m, sender)
            if port is None:
                return False
            if self.subscribers.remove((sender[0], port)):
                log.info("unsubscribed %s:%d", sender[0], port)
        elif m.address == "/bridge/status":
            self._send(self.status_datagram, sender)
        else:
            self.reply_error(sender, f"unknown address {osc.clip(m.address)}", "unknown address")
            return False
        return True

    # ---- MIDI -------------------------------------------------------------------------------

    def on_midi(self, event: Event) -> None:
        """From MIDI port threads and /midi/cc: the map turns a control into engine commands."""
        try:
            with self._midi_lock:
                commands = self.midi_map.handle(*event, current=self.engine.current_values())
                learned = self.midi_map.learned
                self.midi_map.learned = None
            for c in commands:
                if c.name == "emotion_label":       # a mapping file may name a label this model lacks
                    name, value = c.value
                    if name not in self.engine.labels:
                        self.stats.error("midi", f"MIDI: no label {name!r} in this model")
                        continue
                self.engine.submit(c)
            if learned is not None:
                source = f"CC {learned.cc}" if learned.cc is not None else f"note {learned.note}"
                self.midi_learned = f"{learned.param} ← {source} ch {learned.channel} on {learned.port}"
                self._midi_save = self.config.midi_map if self.config.midi_map.endswith(".toml") \
                    else "motionbridge-midi.toml"
        except Exception as e:
            self.internal("midi", e)

    def _save_midi(self) -> None:
        """On the status thread: write the mapping MIDI learn changed."""
        path, self._midi_save = self._midi_save, None
        try:
            with self._midi_lock:
                self.midi_map.save(path)
            log.info("MIDI learn: %s (saved to %s)", self.midi_learned, path)
        except OSError as e:
            self.stats.error("midi", f"MIDI learn could not save {path}: {e}")

    def _midi_osc(self, m: osc.Message, sender: tuple[str, int]) -> bool:
        """/midi/cc i i i and /midi/note i i i (channel 1-16, number, value), /midi/learn s."""
        if m.address == "/midi/learn":
            if len(m.args) != 1 or not isinstance(m.args[0], str):
                self.reply_error(sender, "/midi/learn takes one parameter name")
                return False
            try:
                with self._midi_lock:
                    self.midi_map.learn(m.args[0])
            except ValueError as e:
                self.reply_error(sender, str(e))
                return False
            return True
        kind = {"/midi/cc": "cc", "/midi/note": "note"}.get(m.address)
        if kind is None:
            self.reply_error(sender, f"unknown address {osc.clip(m.address)}", "unknown address")
            return False
        try:
            channel, number, value = whole_numbers(m.address, m.args, 3)
        except ProtocolError:
            channel = number = value = -1
        if not (1 <= channel <= 16 and 0 <= number <= 127 and 0 <= value <= 127):
            self.reply_error(sender, f"{m.address} takes channel (1-16), number (0-127), value (0-127) as i i i")
            return False
        self.on_midi((f"osc:{sender[0]}", kind, channel, number, value))
        return True

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
        last_sent, failures = None, 0
        self.beats["frames"] = time.monotonic()
        while not self.stop_event.is_set():
            try:
                tick = clock.wait(self.stop_event, early=self.lead + self.rehearsal)
                if self.stop_event.is_set():
                    break
                self.stats.missed += tick.missed
                frame, datagrams, sent = self._frame(tick, clock)
                failures = 0
            except Exception as e:   # a failed step skips one frame; the show goes on
                self.stats.failed += 1
                failures += 1
                self.internal(f"frame {clock.index - 1}", e)
                if failures % RESET_AFTER == 0:     # the same failure again and again: start afresh
                    self._recover()
                continue
            self.beats["frames"] = time.monotonic()
            if last_sent is not None:
                self.stats.intervals.append(sent - last_sent)
            last_sent = sent
            self.stats.messages_out += len(datagrams)
            self.stats.frames += 1
            self.last_frame = frame
            if self.engine.pending_fps:
                clock.set_fps(self.engine.pending_fps)
                self.engine.fps, self.engine.pending_fps = self.engine.pending_fps, None
            self._next_start = clock.next_deadline() - self.lead - self.rehearsal

    def _recover(self) -> None:
        try:
            self.engine.generator.reset()
        except Exception as e:
            self.internal("frames: reset", e)

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
            # machine that can take a few tenths of a millisecond) are taken now, so a command
            # sent just before the frame started makes it: only small ones, briefly.
            self.receive(PENDING_LIMIT, started + PENDING_S, PENDING_SIZE)
            frame = self.engine.tick(tick.deadline, on_error=self._command_failed)
            datagrams = self.output.encode(frame)
            self.stats.steps.append(time.perf_counter() - started)
            clock.until(tick.deadline, self.stop_event)
            sent = time.perf_counter()
            for target in self.targets():
                for d in datagrams:
                    self._send(d, target)
            self.engine.settle()      # what the next frame needs, once this one has left
        return frame, datagrams, sent

    def _command_failed(self, command, error: Exception) -> None:
        # commands are validated on the receive thread: one that fails here is our bug, not the sender's
        self.internal(f"command {command.name}", error)

    def _lead(self, period: float) -> float:
        """How early to start a frame. A change that arrives during the lead waits for the next
        frame, so the lead is as short as steady frames allow: long enough for a typical step, and
        for all but the slowest 1 % of steps to send their frame at most LATE_ALLOWANCE late
        (jitter a receiver does not notice; a frame later by the whole lead, it would)."""
        steps = list(self.stats.steps)
        if not steps:
            return LEAD_START
        typical, slow = np.percentile(steps, [50, 99])
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

    # ---- status -----------------------------------------------------------------------------

    def _status_loop(self) -> None:
        """4 Hz: the snapshot; 1 Hz: rates, lead, status to subscribers, lapsed subscriptions;
        every 5 s: the schema to every target."""
        next_status = next_schema = 0.0
        counted = (self.stats.messages_in, self.stats.datagrams_out, self.stats.frames, time.monotonic())
        while not self.stop_event.wait(0.25):
            self.beats["status"] = now = time.monotonic()
            try:
                if self._midi_save:
                    self._save_midi()
                if now >= next_status:
                    messages, datagrams, frames, then = counted
                    s = self.stats
                    elapsed = max(now - then, 1e-6)
                    self._rates = {"in": (s.messages_in - messages) / elapsed,
                                   "out": (s.datagrams_out - datagrams) / elapsed,
                                   "fps": (s.frames - frames) / elapsed}
                    counted = (s.messages_in, s.datagrams_out, s.frames, now)
                    period = 1.0 / self.engine.fps
                    self.lead = self._lead(period)
                    self.rehearsal = self._rehearsal(period)
                    self.stats.kernel_drops = socket_drops(self.sock, self.stats.kernel_drops)
                    for target in self.subscribers.expire(now):
                        log.info("subscription of %s:%d lapsed", *target)
                self.publish()
                if now >= next_status:
                    for target in self.subscribers.targets:
                        self._send(self.status_datagram, target)
                    next_status = now + 1.0
                if now >= next_schema:
                    for target in self.targets():
                        self._send(self.schema, target)
                    next_schema = now + 5.0
            except Exception as e:
                self.internal("status", e)

    def publish(self, snapshot: dict | None = None) -> None:
        """Swap in a snapshot (a fresh one by default) and its /bridge/status datagram, each whole."""
        snapshot = self.make_snapshot() if snapshot is None else snapshot
        self.snapshot = snapshot
        self.status_datagram = osc.message("/bridge/status", json.dumps(snapshot, separators=(",", ":")))

    def make_snapshot(self) -> dict:
        s, e, g = self.stats, self.engine, self.engine.generator
        frame = self.last_frame
        P, L = e.performers, len(e.labels)
        pace = g.measured if g.measured is not None else np.zeros(P)
        intervals = list(s.intervals)
        period = 1.0 / e.fps
        p = e.params[0]
        logs = logqueue.current()
        subscribers = self.subscribers.targets
        return {
            "version": VERSION, "uptime_s": round(time.time() - self.started, 1),
            "listen": "%s:%d" % self.address, "send_to": "%s:%d" % self.target,
            "model": self.model_name, "device": self.device, "mode": e.mode,
            "fps_target": e.fps, "fps": round(self._rates["fps"], 2), "frames": s.frames, "missed": s.missed,
            "failed": s.failed,
            "step_p50_ms": round(_percentile(s.steps, 50) * 1e3, 2), "step_p99_ms": round(_percentile(s.steps, 99) * 1e3, 2),
            "lead_ms": round(self.lead * 1e3, 2), "rehearsal_ms": round(self.rehearsal * 1e3, 2),
            "jitter_p99_ms": round(_percentile([abs(i - period) for i in intervals], 99) * 1e3, 2),
            "osc_in_per_s": round(self._rates["in"], 1), "osc_out_per_s": round(self._rates["out"], 1),
            "packets_in": s.packets_in, "kernel_drops": s.kernel_drops, "replies_withheld": s.replies_withheld,
            "log_dropped": logs.dropped if logs else 0,
            "errors": dict(s.errors),
            "recent_errors": [time.strftime("%H:%M:%S ", time.localtime(t)) + text for t, text in list(s.recent_errors)],
            "threads": dict(self.health),
            "subscribers": [f"{h}:{p_}" for h, p_ in subscribers],
            "subscriber_limit": self.config.subscribers,
            "sampler": {"name": p.sampler, "variance": p.variance, "temperature": p.temperature,
                        "k": p.k, "emotion_weight": p.emotion_weight, "hold": p.hold, "energy": p.energy,
                        "glide": e.glide},
            "labels": e.labels, "poses_received": e.poses_received,
            "performers": [{"target": [round(float(v), 3) for v in e.target[i]],
                            "current": [round(float(v), 3) for v in (frame.emotion[i] if frame else np.zeros(L))],
                            "recognised": [round(float(v), 3) for v in (frame.recognised[i] if frame else np.zeros(L))],
                            "pace": round(float(pace[i]), 2), "pace_target": round(float(g.target[i]), 2)}
                           for i in range(P)],
            "midi": self.midi_snapshot(),
        }

    # ---- the watchdog -----------------------------------------------------------------------

    def _watch_loop(self) -> None:
        while not self.stop_event.wait(0.25):
            try:
                self.watch(time.monotonic())
            except Exception as e:
                self.internal("watchdog", e)

    def watch(self, now: float) -> None:
        """Which threads are making progress; stop the daemon if the frames cannot recover."""
        limit = max(STALLED_S, 5.0 / self.engine.fps)
        health = {}
        for name, thread in self._threads.items():
            idle = now - self.beats.get(name, now)
            if not thread.is_alive():
                health[name] = "dead"
            elif idle > (limit if name == "frames" else STALLED_S + 0.5):
                health[name] = f"stalled {idle:.1f} s"
            else:
                health[name] = "ok"
        logs = logqueue.current()
        if logs is not None:
            health["log"] = "ok" if logs.is_alive() and logs.records.qsize() < logs.records.maxsize else "backed up"
        changed = health != self.health
        self.health = health
        if changed or health.get("status", "ok") != "ok":
            # the status thread may be the one stuck: the status still says so
            self.publish({**self.snapshot, "threads": health})
        if changed and any(v != "ok" for v in health.values()):
            log.warning("threads: %s", ", ".join(f"{k} {v}" for k, v in health.items()))
        stuck = next((name for name in ("frames", "osc-in") if health.get(name) == "dead"
                      or now - self.beats.get(name, now) > self.config.watchdog_s), None)
        if stuck and not self.fatal:
            self.fatal = f"the {stuck} thread is {health[stuck]}"
            log.critical("watchdog: %s; stopping, for a service manager to restart the daemon", self.fatal)
            self.stop_event.set()
            if self.on_fatal:
                self.on_fatal(self.fatal)

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.midi.start()
        now = time.monotonic()
        for name, target in (("osc-in", self._receive_loop), ("frames", self._frame_loop),
                             ("status", self._status_loop)):
            self.beats[name] = now
            self._threads[name] = threading.Thread(target=target, name=name, daemon=True)
        for t in self._threads.values():
            t.start()
        self._watchdog = threading.Thread(target=self._watch_loop, name="watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.midi.close()
        for t in [*self._threads.values(), getattr(self, "_watchdog", None)]:
            if t is not None and t is not threading.current_thread():
                t.join(timeout=2.0)
        self.sock.close()
        self.out.close()


def load_midi_map(spec: str) -> MidiMap:
    if spec.endswith(".toml"):
        return MidiMap.load(spec) if Path(spec).exists() else MidiMap()
    return preset(spec)


def create(config: ServeConfig, on_fatal: Callable[[str], None] | None = None) -> Daemon:
    """Check the settings, load the model and wire engine, output and sockets from a config."""
    from models import checkpoint, families
    from models.device import pick_device
    from models.sampling import SamplingParams

    config.check()
    output = OutputFormat(config.layout, config.space, config.per_joint)
    device = pick_device(config.device)
    path = checkpoint.locate(config.checkpoint or checkpoint.default_checkpoint("solo"))
    model, meta = checkpoint.load(path, device)
    params = SamplingParams(sampler=config.sampler, variance=config.variance, temperature=config.temperature,
                            energy=config.energy)
    live = families.family(meta["kind"]).make_live(model, meta, performers=config.performers, seed=config.seed,
                                              stage=config.stage)
    engine = Engine(live, fps=config.fps, glide=config.glide, params=params,
                    pose_layout=config.pose_layout, pose_space=config.pose_space)
    name = f"{path.name} ({model.n_params() / 1e6:.1f} M params, {len(meta['labels'])} labels)"
    return Daemon(config, engine, output, name, str(device), on_fatal)
