"""A mido backend for machines without MIDI hardware: one input port, "Fake Controller 1", that
plays the messages in $FAKE_MIDI (hex bytes, comma-separated) once, 50 ms apart, after a short
delay. Chosen with MIDO_BACKEND=fake_midi_backend; the messages are real mido messages."""
import os
import threading
import time

import mido
from mido.ports import BaseInput


def get_devices(**kwargs):
    return [{"name": "Fake Controller 1", "is_input": True, "is_output": False}]


def _messages():
    return [mido.Message.from_bytes(bytes.fromhex(h)) for h in os.environ.get("FAKE_MIDI", "").split(",") if h]


class Input(BaseInput):
    def _open(self, callback=None, virtual=False, **kwargs):
        if virtual:
            raise OSError("virtual ports are not supported by the fake backend")
        self._closed_flag = threading.Event()
        if callback is not None:
            threading.Thread(target=self._play, args=(callback,), daemon=True).start()

    def _play(self, callback):
        time.sleep(float(os.environ.get("FAKE_MIDI_DELAY", "0.5")))
        for m in _messages():
            if self._closed_flag.is_set():
                return
            callback(m)
            time.sleep(0.05)

    def _close(self):
        self._closed_flag.set()

    def _receive(self, block=True):
        return None
