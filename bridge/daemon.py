"""The daemon: OSC in on one thread, the frame loop on another, the status on a third, and a
watchdog over them; the dashboard draws on the main thread.

- osc-in takes datagrams from the socket (`transport`), which decides which to read (`intake`),
  and hands them to `control`, which parses them with our own strict parser, answers pings,
  subscriptions and errors, and hands validated commands to the engine's queue; it never touches
  engine state.
- frames (`runner`) waits on the clock, takes the few small datagrams still waiting in the socket
  as a frame starts (the same way, under the same lock, so order holds), ticks the engine and
  sends the frame. It never waits on a socket (sends are non-blocking UDP), never logs except onto
  a queue, and never formats status or writes a file.
- status builds the snapshot (`status.Snapshot`: the dashboard, `/bridge/status`), sends it and
  the schema to subscribers, lets lapsed subscriptions go, sizes the lead, and saves what MIDI
  learn learned.
- watchdog notices a thread that stopped making progress, shows it in the status, and when the
  frames cannot recover, stops the daemon with `fatal` set (serve then exits with status 3, for a
  service manager to restart it).

Every loop catches what it did not expect, counts it, logs it through the queue, and goes on.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
import selectors
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import logqueue
from .clock import FrameClock
from .control import Control
from .engine import Engine
from .midi import MidiInputs
from .output import OutputFormat
from .params import PARAMS
from .runner import Runner, percentile
from .status import Performer, Snapshot, Stats
from .transport import Transport

log = logging.getLogger(__name__)

PENDING_LIMIT = 16                # datagrams the frame thread takes from the socket as a frame starts
PENDING_SIZE = 1472               # ... each no larger than this (a larger one waits for osc-in)
RECEIVE_S = 0.002                 # osc-in holds the frame lock for at most about this long at a time
GUARD_S = 0.0015                  # ... and starts no datagram this close to a frame's start
VERSION = "0.1.0"
WEB_PORT = 7780                   # serve --web with no port
SHIPPED = "shipped"               # serve --partner with no checkpoint
STALLED_S = 1.0                   # a thread that has not moved for this long is shown as stalled


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
    web: int = field(default=0, metadata={"bare": WEB_PORT})   # the browser view's port (--web alone: 7780; 0: off), on host
    partner: str = field(default="", metadata={"bare": SHIPPED})   # a duet checkpoint (--partner alone: the shipped one): pairs, not soloists
    leave_after: float = 2.0          # partner mode: seconds without a pose before the human counts as gone
    plane: float = 1.5                # partner mode: metres in front of the centre where an image (2-D) pose stands

    def check(self) -> None:
        """Refuse settings that cannot work, before anything starts: ValueError, one line naming the
        setting, the value and what would do."""
        from models.config import check_types
        check_types(self)

        def need(ok: bool, name: str, valid: str) -> None:
            if not ok:
                raise ValueError(f"{name} must be {valid}, got {getattr(self, name)!r:.40}")
        need(0 <= self.port < 65536, "port", "0-65535 (0: any free port)")
        need(0 < self.out_port < 65536, "out_port", "1-65535")
        need(1 <= self.fps <= 240, "fps", "between 1 and 240")
        need(1 <= self.performers <= 256, "performers", "between 1 and 256")
        need(self.budget >= 1, "budget", "at least 1 datagram a second")
        need(0 <= self.subscribers <= 1024, "subscribers", "between 0 and 1024")
        need(self.subscription_s > 0, "subscription_s", "more than 0 seconds")
        need(self.watchdog_s >= 1, "watchdog_s", "at least 1 second")
        need(0 <= self.glide <= 60, "glide", "between 0 and 60 seconds")
        need(0 <= self.stage <= 100, "stage", "between 0 and 100 metres")
        need(self.dashboard in ("auto", "on", "off"), "dashboard", "auto, on or off")
        need(self.threads >= 0, "threads", "0 or more")
        need(0 <= self.web < 65536, "web", "a port, 1-65535 (0: no web view)")
        need(0 < self.leave_after <= 3600, "leave_after", "between 0 and 3600 seconds")
        need(0 <= self.plane <= 100, "plane", "between 0 and 100 metres")
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


class Daemon:
    def __init__(self, config: ServeConfig, engine: Engine, output: OutputFormat, model_name: str, device: str,
                 on_fatal: Callable[[str], None] | None = None, clock: FrameClock | None = None):
        self.config, self.engine, self.output = config, engine, output
        self.model_name, self.device = model_name, device
        self.on_fatal = on_fatal
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.fatal = ""                      # why the watchdog stopped the daemon, if it did
        self.transport = Transport(config.host, config.port, (config.out_host, config.out_port), config.networks(),
                                   config.budget, config.subscribers, config.subscription_s, self.stats)
        self.snapshot = Snapshot()
        self.status_datagram = self.snapshot.datagram()
        self.schema = output.schema(engine.labels, engine.performers, engine.generator.roles)
        self.control = Control(engine, self.transport, self.stats, config.midi_map, lambda: self.status_datagram,
                               self.schema)
        self.web = None
        if config.web:
            from .web import WebView, page_schema
            self.web = WebView(config.host, config.web, lambda: page_schema(engine), self.control.command,
                               self.stats)
        self.runner = Runner(engine, output, self.stats, clock or FrameClock(engine.fps), self._send_frame,
                             self._pending, self.web.publish if self.web else None)
        self._rates = {"in": 0.0, "out": 0.0, "fps": 0.0}
        self._threads: dict[str, threading.Thread] = {}
        self.beats: dict[str, float] = {}     # thread → when it last made progress (monotonic)
        self.health: dict[str, str] = {}
        self.started = time.time()
        self.midi = MidiInputs(config.midi, self.control.on_midi)

    @property
    def address(self) -> tuple[str, int]:
        return self.transport.address

    @property
    def subscribers(self):
        return self.transport.subscribers

    # ---- the frames' two ends -----------------------------------------------------------------

    def _send_frame(self, datagrams: list[bytes]) -> None:
        send = self.transport.send
        for target in self.transport.targets():
            for d in datagrams:
                send(d, target)

    def _pending(self, until: float) -> None:
        self.transport.take(PENDING_LIMIT, until, self.control.handle_datagram, PENDING_SIZE)

    # ---- receiving --------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        waiting = selectors.DefaultSelector()
        waiting.register(self.transport.sock, selectors.EVENT_READ)
        runner, take, handle = self.runner, self.transport.take, self.control.handle_datagram
        while not self.stop_event.is_set():
            self.beats["osc-in"] = time.monotonic()
            try:
                if waiting.select(timeout=0.2):
                    # A datagram can take a millisecond to read, and the frame cannot start until
                    # it is done: none is started just before a frame is (see Runner.frame).
                    gap = runner.next_start - time.perf_counter()
                    if 0 < gap < GUARD_S:
                        time.sleep(gap)
                    with runner.lock:             # stand aside while a frame is computed
                        take(256, min(time.perf_counter() + RECEIVE_S, runner.next_start - GUARD_S), handle)
            except Exception as e:
                self.stats.internal("osc-in", e)
        waiting.close()

    def _frame_loop(self) -> None:
        self.runner.run(self.stop_event)

    # ---- status -----------------------------------------------------------------------------

    def _status_loop(self) -> None:
        """4 Hz: the snapshot; 1 Hz: rates, lead, status to subscribers, lapsed subscriptions;
        every 5 s: the schema to every target."""
        next_status = next_schema = 0.0
        counted = (self.stats.messages_in, self.stats.datagrams_out, self.stats.frames, time.monotonic())
        t = self.transport
        while not self.stop_event.wait(0.25):
            self.beats["status"] = now = time.monotonic()
            try:
                self.control.save_learned()
                if now >= next_status:
                    messages, datagrams, frames, then = counted
                    s = self.stats
                    elapsed = max(now - then, 1e-6)
                    self._rates = {"in": (s.messages_in - messages) / elapsed,
                                   "out": (s.datagrams_out - datagrams) / elapsed,
                                   "fps": (s.frames - frames) / elapsed}
                    counted = (s.messages_in, s.datagrams_out, s.frames, now)
                    self.runner.adjust()
                    t.count_drops()
                    for target in t.subscribers.expire(now):
                        log.info("subscription of %s:%d lapsed", *target)
                self.publish()
                if now >= next_status:
                    for target in t.subscribers.targets:
                        t.send(self.status_datagram, target)
                    next_status = now + 1.0
                if now >= next_schema:
                    for target in t.targets():
                        t.send(self.schema, target)
                    next_schema = now + 5.0
            except Exception as e:
                self.stats.internal("status", e)

    def publish(self, snapshot: Snapshot | None = None) -> None:
        """Swap in a snapshot (a fresh one by default) and its /bridge/status datagram, each whole."""
        snapshot = self.make_snapshot() if snapshot is None else snapshot
        self.snapshot = snapshot
        self.status_datagram = snapshot.datagram()

    def make_snapshot(self) -> Snapshot:
        s, e, r = self.stats, self.engine, self.runner
        frame = r.last_frame
        P, L = e.performers, len(e.labels)
        pace = e.generator.status()
        measured, asked = pace.get("pace_measured", [0.0] * P), pace.get("pace_target", [0.0] * P)
        leads = pace.get("lead")
        partners = list(zip(pace.get("partner_limbs", [0.0] * P), pace.get("partner_gain", [0.0] * P)))
        period = 1.0 / e.fps
        p = e.params[0]
        logs = logqueue.current()
        rounded = lambda values: [round(float(v), 3) for v in values]    # noqa: E731
        return Snapshot(
            version=VERSION, uptime_s=round(time.time() - self.started, 1),
            listen="%s:%d" % self.address, send_to="%s:%d" % self.transport.target,
            model=self.model_name, device=self.device, mode=e.mode,
            fps_target=e.fps, fps=round(self._rates["fps"], 2), frames=s.frames, missed=s.missed, failed=s.failed,
            step_p50_ms=round(percentile(s.steps, 50) * 1e3, 2), step_p99_ms=round(percentile(s.steps, 99) * 1e3, 2),
            lead_ms=round(r.lead * 1e3, 2), rehearsal_ms=round(r.rehearsal * 1e3, 2),
            jitter_p99_ms=round(percentile([abs(i - period) for i in list(s.intervals)], 99) * 1e3, 2),
            osc_in_per_s=round(self._rates["in"], 1), osc_out_per_s=round(self._rates["out"], 1),
            packets_in=s.packets_in, kernel_drops=s.kernel_drops, barred=len(self.transport.intake.barred),
            replies_withheld=s.replies_withheld,
            log_dropped=logs.dropped if logs else 0,
            errors=dict(s.errors),
            recent_errors=[time.strftime("%H:%M:%S ", time.localtime(t)) + text for t, text in list(s.recent_errors)],
            threads=dict(self.health),
            subscribers=[f"{h}:{p_}" for h, p_ in self.transport.subscribers.targets],
            subscriber_limit=self.config.subscribers,
            sampler={"name": p.sampler, **{name: e.value(name) for name in PARAMS if name != "fps"}},
            labels=list(e.labels), actions=list(e.generator.actions), poses_received=e.poses_received,
            performers=[Performer(rounded(e.target[i]), rounded(frame.emotion[i] if frame else np.zeros(L)),
                                  rounded(frame.recognised[i] if frame else np.zeros(L)),
                                  round(float(measured[i]), 2), round(float(asked[i]), 2),
                                  leads[i] if leads else "", *partners[i], e.actions[i] or "") for i in range(P)],
            midi=self.control.midi(self.midi.status),
        )

    # ---- the watchdog -----------------------------------------------------------------------

    def _watch_loop(self) -> None:
        while not self.stop_event.wait(0.25):
            try:
                self.watch(time.monotonic())
            except Exception as e:
                self.stats.internal("watchdog", e)

    def watch(self, now: float) -> None:
        """Which threads are making progress; stop the daemon if the frames cannot recover."""
        self.beats["frames"] = self.runner.beat
        limit = max(STALLED_S, 5.0 / self.engine.fps)
        health = {}
        threads = dict(self._threads)
        if self.web is not None:
            threads["web"] = self.web.thread
        for name, thread in threads.items():
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
            self.publish(dataclasses.replace(self.snapshot, threads=health))
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
        if self.web is not None:
            self.web.start()
        self.midi.start()
        now = time.monotonic()
        for name, target in (("osc-in", self._receive_loop), ("frames", self._frame_loop),
                             ("status", self._status_loop)):
            self.beats[name] = now
            self._threads[name] = threading.Thread(target=target, name=name, daemon=True)
        self.runner.beat = now
        for t in self._threads.values():
            t.start()
        self._watchdog = threading.Thread(target=self._watch_loop, name="watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.midi.close()
        if self.web is not None:
            self.web.stop()
        for t in [*self._threads.values(), getattr(self, "_watchdog", None)]:
            if t is not None and t is not threading.current_thread():
                t.join(timeout=2.0)
        self.transport.close()


def create(config: ServeConfig, on_fatal: Callable[[str], None] | None = None) -> Daemon:
    """Check the settings, load the model and wire engine, output and sockets from a config."""
    from models import checkpoint, families
    from models.device import pick_device
    from models.sampling import SamplingParams

    config.check()
    output = OutputFormat(config.layout, config.space, config.per_joint, config.stage)
    device = pick_device(config.device)
    path = checkpoint.locate(config.checkpoint or checkpoint.default_checkpoint("solo"))
    model, meta = checkpoint.load(path, device)
    params = SamplingParams(sampler=config.sampler, variance=config.variance, temperature=config.temperature,
                            energy=config.energy)
    if meta["kind"] != "solo":
        raise checkpoint.CheckpointError(f"{path}: a {meta['kind']} checkpoint cannot lead; serve a solo checkpoint"
                                         + (" with --partner for this one" if meta["kind"] == "duet" else ""))
    live = families.family("solo").make_live(model, meta, performers=config.performers, seed=config.seed,
                                             stage=config.stage)
    name = f"{path.name} ({model.n_params() / 1e6:.1f} M params, {len(meta['labels'])} labels)"
    if config.partner:
        from models.duet.lead import LeadConfig
        partner_path = checkpoint.locate(checkpoint.default_checkpoint("duet") if config.partner == SHIPPED
                                         else config.partner)
        duet, duet_meta = checkpoint.load(partner_path, device)
        if duet_meta["kind"] != "duet":
            raise checkpoint.CheckpointError(f"{partner_path}: --partner takes a duet checkpoint, this one is "
                                             f"{duet_meta['kind']}")
        live = families.family("duet").make_live(duet, duet_meta, performers=config.performers, seed=config.seed,
                                                 soloist=live, lead=LeadConfig(leave_after=config.leave_after,
                                                                               plane=config.plane))
        name += f" + partner {partner_path.name} ({duet.n_params() / 1e6:.1f} M)"
    engine = Engine(live, fps=config.fps, glide=config.glide, params=params,
                    pose_layout=config.pose_layout, pose_space=config.pose_space)
    return Daemon(config, engine, output, name, str(device), on_fatal)
