"""MIDI input through mido: open ports, follow them as they come and go, hand events on.

mido and its backend are imported when MIDI is first used, so the daemon starts (and says "MIDI:
unavailable") on machines with no backend, no sound devices, or no ALSA sequencer.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)

Event = tuple[str, str, int, int, int]     # port, kind (cc | note), channel 1-16, number, value
RESCAN_S = 2.0


def event(port: str, message) -> Event | None:
    """A mido message → an event, or None for messages that control nothing."""
    if message.type == "control_change":
        return port, "cc", message.channel + 1, message.control, message.value
    if message.type == "note_on":
        return port, "note", message.channel + 1, message.note, message.velocity
    if message.type == "note_off":
        return port, "note", message.channel + 1, message.note, 0
    return None


class MidiInputs:
    """Every input port whose name contains `select` ("auto": all of them, "none": no MIDI),
    plus a virtual input named `virtual` where the platform has them. Rescans every 2 s, so
    an unplugged device is shown as gone and reopened when it returns."""

    def __init__(self, select: str, on_event: Callable[[Event], None], virtual: str = "motionbridge"):
        self.select, self.on_event, self.virtual = select, on_event, virtual
        self.ports: dict[str, object] = {}
        self.lost: set[str] = set()
        self.status = "off" if select == "none" else "starting"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mido = None

    def start(self) -> None:
        if self.select == "none":
            return
        try:
            import mido
            mido.get_input_names()
            self._mido = mido
        except (ImportError, OSError, RuntimeError) as e:   # rtmidi's SystemError is an OSError
            self.status = f"unavailable ({str(e).splitlines()[0][:80] or type(e).__name__})"
            log.warning("MIDI: %s; running without MIDI", self.status)
            return
        if self.virtual:
            try:
                self.ports[self.virtual] = mido.open_input(self.virtual, virtual=True, callback=self._callback(self.virtual))
            except (OSError, NotImplementedError, RuntimeError) as e:
                log.info("MIDI: no virtual port here (%s)", e)
        self._scan()
        self._thread = threading.Thread(target=self._rescan, name="midi", daemon=True)
        self._thread.start()

    def _callback(self, name: str):
        def receive(message) -> None:
            e = event(name, message)
            if e is not None:
                self.on_event(e)
        return receive

    def _wanted(self, name: str) -> bool:
        if name.startswith(self.virtual) and self.virtual in self.ports:
            return False                      # our own virtual port, already open
        return self.select == "auto" or self.select.lower() in name.lower()

    def _scan(self) -> None:
        try:
            names = [n for n in self._mido.get_input_names() if self._wanted(n)]
        except (OSError, RuntimeError) as e:
            self.status = f"unavailable ({e})"
            return
        for name in list(self.ports):
            if name != self.virtual and name not in names:
                log.warning("MIDI: %s disconnected", name)
                self.ports.pop(name).close()
                self.lost.add(name)
        for name in names:
            if name not in self.ports:
                try:
                    self.ports[name] = self._mido.open_input(name, callback=self._callback(name))
                    if name in self.lost:
                        log.info("MIDI: %s reconnected", name)
                    self.lost.discard(name)
                except (OSError, RuntimeError) as e:
                    log.warning("MIDI: cannot open %s: %s", name, e)
        opened = ", ".join(self.ports) or "no devices"
        gone = f"; lost: {', '.join(sorted(self.lost))}" if self.lost else ""
        self.status = f"{opened}{gone}"

    def _rescan(self) -> None:
        while not self._stop.wait(RESCAN_S):
            self._scan()

    def close(self) -> None:
        self._stop.set()
        for port in self.ports.values():
            try:
                port.close()
            except OSError:
                pass
        self.ports.clear()
