"""What the daemon does with a datagram it has read: parse it, answer `/bridge/*` (ping,
subscriptions, status), turn `/midi/*` into parameter changes through the MIDI map (and learn new
mappings), and hand everything else to the protocol, whose validated commands go to the engine's
queue. Runs on the receive thread (and MIDI's port threads); never touches engine state itself.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import osc
from .engine import Engine
from .midi import Event
from .midimap import MidiMap, preset
from .protocol import ProtocolError, SetAction, SetLabel, SetPoseLayout, interpret, whole_numbers
from .status import Midi, Stats
from .status import Control as ControlStatus
from .transport import Address, Transport

log = logging.getLogger(__name__)


def load_midi_map(spec: str, labels: list[str] | None = None) -> MidiMap:
    """A mapping file, or a preset whose emotion faders follow the model's labels."""
    if spec.endswith(".toml"):
        return MidiMap.load(spec) if Path(spec).exists() else MidiMap()
    return preset(spec, labels) if labels else preset(spec)


def learned_path(spec: str) -> Path:
    """Where MIDI learn saves: the mapping file the user named, or, for a preset, a file of ours in
    the user's configuration folder (never the working folder, which may be anywhere)."""
    if spec.endswith(".toml"):
        return Path(spec)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "motionbridge" / f"midi-{spec}.toml"


class Control:
    def __init__(self, engine: Engine, transport: Transport, stats: Stats, midi_map: str,
                 status: Callable[[], bytes], schema: bytes):
        self.engine, self.transport, self.stats = engine, transport, stats
        self.status, self.schema = status, schema
        self.pose_layout = engine.pose_layout   # the receive side's: a bundle may set it, then use it
        self.midi_spec = midi_map
        self.midi_map = load_midi_map(midi_map, engine.labels)
        self.midi_learned = ""
        self._midi_lock = threading.Lock()
        self._midi_save: Path | None = None      # a learned mapping waiting for the status thread to write it

    def error(self, sender: Address | None, text: str, kind: str = "bad input") -> None:
        self.transport.error(sender, text, kind)

    # ---- datagrams --------------------------------------------------------------------------

    def handle_datagram(self, datagram: bytes, sender: Address) -> None:
        intake = self.transport.intake
        try:
            messages = osc.parse(datagram)
        except osc.OscError as e:
            intake.judged(sender, False)
            self.error(sender, f"{e} ({len(datagram)} bytes)", "malformed")
            return
        good = True
        for m in messages:
            self.stats.messages_in += 1
            try:
                good &= self.handle_message(m, sender)
            except Exception as e:
                good = False
                self.stats.internal(f"osc-in {osc.clip(m.address)}", e)
        intake.judged(sender, good)

    def handle_message(self, m: osc.Message, sender: Address) -> bool:
        """Apply or refuse one message; True if it was good."""
        if m.address.startswith("/bridge/"):
            return self._bridge(m, sender)
        if m.address.startswith("/midi/"):
            return self._midi_osc(m, sender)
        text = self._submit(m.address, m.args, sender)
        if text is not None:
            self.error(sender, text, "unknown address" if text.startswith("unknown address") else "bad input")
        return text is None

    def _submit(self, address: str, args: tuple, sender: Address | None) -> str | None:
        """Interpret one message and queue its commands: None, or why it was refused."""
        e = self.engine
        try:
            commands = interpret(address, args, e.labels, sender, self.pose_layout, e.performers, e.generator.modes,
                                 e.generator.unsupported, e.generator.actions)
        except ProtocolError as error:
            return str(error)
        for command in commands:
            if isinstance(command, SetPoseLayout):
                self.pose_layout = command.layout
            e.submit(command)
        return None

    def command(self, address: str, args: list, source: str = "web") -> str | None:
        """One message from a transport that is not OSC (the web view), checked by the same
        protocol: None if applied, else why not (for that transport to show)."""
        if address.startswith(("/bridge/", "/midi/")):
            text = f"{osc.clip(address)} is for OSC clients; the page sends commands only"
        else:
            self.stats.messages_in += 1
            text = self._submit(address, tuple(args), None)
        if text is not None:
            self.stats.error("bad input", f"{source}: {text}")
        return text

    # ---- /bridge/* ----------------------------------------------------------------------------

    def _port(self, m: osc.Message, sender: Address) -> int | None:
        """The optional port argument of subscribe and unsubscribe (the sender's own by default)."""
        if not m.args:
            return sender[1]
        try:
            (port,) = whole_numbers(m.address, m.args, 1)
        except ProtocolError:
            port = 0
        if 0 < port < 65536:
            return port
        self.error(sender, f"{m.address} takes an optional port number, 1-65535 (i)")
        return None

    def _bridge(self, m: osc.Message, sender: Address) -> bool:
        t = self.transport
        if m.address == "/bridge/ping":
            # the same bytes back under /bridge/pong (as long as /bridge/ping): never larger
            t.answer(osc._pad(b"/bridge/pong") + m.raw[16:], sender)
        elif m.address == "/bridge/subscribe":
            port = self._port(m, sender)
            if port is None:
                return False
            target = (sender[0], port)
            renewed = target in t.subscribers.targets
            if not t.subscribers.add(target, time.monotonic()):
                self.error(sender, f"subscriber limit ({t.subscribers.limit}) reached", "subscribers")
                return False
            t.send(self.schema, target)
            if not renewed:
                log.info("subscribed %s:%d", *target)
        elif m.address == "/bridge/unsubscribe":
            port = self._port(m, sender)
            if port is None:
                return False
            if t.subscribers.remove((sender[0], port)):
                log.info("unsubscribed %s:%d", sender[0], port)
        elif m.address == "/bridge/status":
            t.send(self.status(), sender)
        else:
            self.error(sender, f"unknown address {osc.clip(m.address)}", "unknown address")
            return False
        return True

    # ---- MIDI ---------------------------------------------------------------------------------

    def on_midi(self, event: Event) -> None:
        """From MIDI port threads and /midi/cc: the map turns a control into engine commands."""
        try:
            with self._midi_lock:
                commands = self.midi_map.handle(*event, current=self.engine.current_values())
                learned = self.midi_map.learned
                self.midi_map.learned = None
            for c in commands:
                # a mapping file may name a label or an action this model lacks
                if isinstance(c, SetLabel) and isinstance(c.label, str) and c.label not in self.engine.labels:
                    self.stats.error("midi", f"MIDI: no label {c.label!r} in this model")
                    continue
                if isinstance(c, SetAction) and c.action is not None and c.action not in self.engine.generator.actions:
                    self.stats.error("midi", f"MIDI: no action {c.action!r} in this model")
                    continue
                self.engine.submit(c)
            if learned is not None:
                source = f"CC {learned.cc}" if learned.cc is not None else f"note {learned.note}"
                self.midi_learned = f"{learned.param} ← {source} ch {learned.channel} on {learned.port}"
                self._midi_save = learned_path(self.midi_spec)
        except Exception as e:
            self.stats.internal("midi", e)

    def save_learned(self) -> None:
        """Off the MIDI and frame threads (the status thread calls it): write what MIDI learn learned."""
        path, self._midi_save = self._midi_save, None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._midi_lock:
                self.midi_map.save(path)
            self.midi_learned += f" (saved to {path})"
            log.info("MIDI learn: %s", self.midi_learned)
        except OSError as e:
            self.stats.error("midi", f"MIDI learn could not save {path}: {e}")

    def _midi_osc(self, m: osc.Message, sender: Address) -> bool:
        """/midi/cc i i i and /midi/note i i i (channel 1-16, number, value), /midi/learn s."""
        if m.address == "/midi/learn":
            if len(m.args) != 1 or not isinstance(m.args[0], str):
                self.error(sender, "/midi/learn takes one parameter name")
                return False
            try:
                with self._midi_lock:
                    self.midi_map.learn(m.args[0])
            except ValueError as e:
                self.error(sender, str(e))
                return False
            return True
        kind = {"/midi/cc": "cc", "/midi/note": "note"}.get(m.address)
        if kind is None:
            self.error(sender, f"unknown address {osc.clip(m.address)}", "unknown address")
            return False
        try:
            channel, number, value = whole_numbers(m.address, m.args, 3)
        except ProtocolError:
            channel = number = value = -1
        if not (1 <= channel <= 16 and 0 <= number <= 127 and 0 <= value <= 127):
            self.error(sender, f"{m.address} takes channel (1-16), number (0-127), value (0-127) as i i i")
            return False
        self.on_midi((f"osc:{sender[0]}", kind, channel, number, value))
        return True

    def midi(self, status: str) -> Midi:
        """The MIDI part of the status; `status` says what the ports are."""
        with self._midi_lock:
            current = self.engine.current_values()
            controls = [ControlStatus(m.param, (f"CC {m.cc}" if m.cc is not None else f"note {m.note}")
                                      + (f" ch {m.channel}" if m.channel else ""),
                                      current.get(m.param), self.midi_map.waiting(i))
                        for i, m in enumerate(self.midi_map.mappings)]
            return Midi(status, self.midi_map.learning, self.midi_learned, controls)
