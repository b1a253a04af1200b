import os
import socket
import subprocess
import sys
from pathlib import Path

import mido
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

from bridge.daemon import ServeConfig, create
from bridge.midi import MidiInputs, event
from conftest import handled, wait_until

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def fake_backend(monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("FAKE_MIDI", "b01040,b01041,903c64,803c00,f8")   # CC 16, CC 16, note on/off, clock
    monkeypatch.setenv("FAKE_MIDI_DELAY", "0.1")
    previous = mido.backend
    mido.set_backend("fake_midi_backend", load=True)
    yield
    mido.backend = previous
    mido.set_backend(previous.name)


def test_real_mido_messages_become_events():
    assert event("k", mido.Message("control_change", channel=2, control=74, value=9)) == ("k", "cc", 3, 74, 9)
    assert event("k", mido.Message("note_off", note=60)) == ("k", "note", 1, 60, 0)
    assert event("k", mido.Message("clock")) is None


def test_inputs_open_every_port_and_deliver_events(fake_backend):
    got = []
    inputs = MidiInputs("auto", got.append, virtual="motionbridge")
    inputs.start()
    assert wait_until(lambda: len(got) >= 3)
    inputs.close()
    assert inputs.status.startswith("Fake Controller 1")
    assert got[:3] == [("Fake Controller 1", "cc", 1, 16, 64), ("Fake Controller 1", "cc", 1, 16, 65),
                       ("Fake Controller 1", "note", 1, 60, 100)]


def test_a_missing_backend_means_midi_unavailable_and_the_daemon_runs(solo_model, monkeypatch):
    monkeypatch.setenv("MIDO_BACKEND", "no_such_midi_backend")
    previous = mido.backend
    mido.set_backend("no_such_midi_backend", load=False)
    try:
        inputs = MidiInputs("auto", lambda e: None)
        inputs.start()
        assert inputs.status.startswith("unavailable")
        d = create(ServeConfig(port=0, out_port=9, midi="auto"))
        d.start()
        assert wait_until(lambda: d.stats.frames > 5)
        d.stop()
        assert d.midi.status.startswith("unavailable")
    finally:
        mido.backend = previous


def test_osc_forwarded_midi_moves_parameters_with_pickup_and_learn(solo_model, tmp_path):
    d = create(ServeConfig(port=0, out_port=9, midi="none", midi_map=str(tmp_path / "map.toml")))
    d.control.midi_map = __import__("bridge.midimap", fromlist=["preset"]).preset("nanokontrol2")
    d.start()
    c = SimpleUDPClient("127.0.0.1", d.address[1])
    try:
        variance = d.engine.params[0].variance           # 3.0: a knob at about 62 of 127
        c.send_message("/midi/cc", [1, 16, 120])
        handled(c, d)
        assert d.engine.params[0].variance == variance   # waiting for pick-up, no jump
        assert next(c for c in d.control.midi("none").controls if c.param == "variance").waiting
        c.send_message("/midi/cc", [1, 16, 30])         # crosses 62: picked up
        c.send_message("/midi/cc", [1, 16, 127])
        assert wait_until(lambda: d.engine.params[0].variance == pytest.approx(20.0))
        c.send_message("/midi/note", [1, 64, 127]); c.send_message("/midi/cc", [1, 34, 127])
        assert wait_until(lambda: d.engine.params[0].sampler == "dynamic")
        c.send_message("/midi/cc", [1, 66, 127])        # R button 3: walk, which the shipped model was not taught
        assert wait_until(lambda: any("MIDI: no action 'walk' in this model" in text for _, text in d.stats.recent_errors))
        assert d.engine.actions == [None]
        c.send_message("/midi/learn", "temperature")
        c.send_message("/midi/cc", [5, 74, 10])
        saved = tmp_path / "map.toml"                    # the status thread writes it, off the frame thread
        assert wait_until(lambda: saved.exists() and "cc = 74" in saved.read_text())
        saved = saved.read_text()
        assert "param = \"temperature\"" in saved and "cc = 74" in saved and "channel = 5" in saved
        assert "temperature ← CC 74" in d.control.midi("none").learned
        c.send_message("/midi/cc", [17, 1, 1])
        errors = [m.params[0] for m in c.get_messages(1.0) if m.address == "/bridge/error"]
        assert errors and "/midi/cc".startswith(errors[0].rstrip("…")[:8])     # cut to the request's size
        assert any("channel (1-16)" in text for _, text in d.stats.recent_errors)   # whole on the dashboard
    finally:
        d.stop()


def test_midi_forward_over_loopback(tmp_path):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(20)
    env = {**os.environ, "MIDO_BACKEND": "fake_midi_backend", "PYTHONPATH": str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "FAKE_MIDI": "b01040,913c64", "FAKE_MIDI_DELAY": "3"}
    proc = subprocess.Popen([sys.executable, "-m", "bridge.cli", "midi", "forward", "--to",
                             f"127.0.0.1:{listener.getsockname()[1]}", "--no-virtual"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = OscMessage(listener.recvfrom(65536)[0])
        second = OscMessage(listener.recvfrom(65536)[0])
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert (first.address, first.params) == ("/midi/cc", [1, 16, 64])
    assert (second.address, second.params) == ("/midi/note", [2, 60, 100])
    assert "forwarding MIDI from Fake Controller 1" in err


@pytest.mark.skipif(not os.path.exists("/dev/snd/seq"), reason="no ALSA sequencer (/dev/snd/seq) on this machine")
def test_a_real_alsa_virtual_port_reaches_the_inputs():
    got = []
    inputs = MidiInputs("motionbridge-test-out", got.append, virtual="")
    with mido.open_output("motionbridge-test-out", virtual=True) as port:
        inputs.start()
        assert wait_until(lambda: "motionbridge-test-out" in inputs.status)
        port.send(mido.Message("control_change", control=16, value=99))
        assert wait_until(lambda: got)
    inputs.close()
    assert got and got[0][1:] == ("cc", 1, 16, 99)
