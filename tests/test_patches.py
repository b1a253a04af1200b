"""The shipped patches talk to a running daemon: Pure Data for real (pd -nogui), Max by its JSON."""
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import free_port, wait_until
from bridge.daemon import ServeConfig, create

PATCHES = Path(__file__).resolve().parents[1] / "patches"


@pytest.mark.skipif(not shutil.which("pd"), reason="Pure Data (puredata-core) not installed")
def test_pure_data_patch_receives_frames_and_sends_emotion_and_energy(solo_model):
    pd_port = free_port()
    daemon = create(ServeConfig(port=0, out_port=pd_port, glide=0.0))
    daemon.start()
    try:
        proc = subprocess.Popen(
            ["pd", "-nogui", "-nosound", "-nomidi", "-noprefs", "-stderr", "-open",
             str(PATCHES / "puredata" / "motionbridge.pd"),
             "-send", f"motionbridge-ports {daemon.address[1]} {pd_port}",
             "-send", "motionbridge-emotion angry 1", "-send", "motionbridge-energy 1.5"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []
        deadline = time.monotonic() + 30             # pd prints each frame it receives: wait for 20 of them
        while sum(line.startswith("FRAME:") for line in lines) < 20 and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        assert wait_until(lambda: daemon.engine.params[0].energy == 1.5)
        proc.terminate()
        err = "\n".join(lines) + proc.communicate(timeout=5)[1]
    finally:
        daemon.stop()
    frames = [line for line in err.splitlines() if line.startswith("FRAME:")]
    poses = [line for line in err.splitlines() if line.startswith("POSE:")]
    assert len(frames) >= 20, err[-2000:]
    assert len(poses[0].split()) == 1 + 63
    assert "error" not in err.lower()
    assert daemon.engine.target[0, daemon.engine.labels.index("angry")] == 1.0
    assert daemon.engine.params[0].energy == 1.5


def test_max_patch_is_wired_to_the_daemon_ports():
    patch = json.loads((PATCHES / "max" / "motionbridge.maxpat").read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patch["boxes"]}
    for line in patch["lines"]:
        src, dst = line["patchline"]["source"], line["patchline"]["destination"]
        assert src[0] in boxes and dst[0] in boxes
        assert src[1] < boxes[src[0]]["numoutlets"] and dst[1] < boxes[dst[0]]["numinlets"]
    texts = [b.get("text", "") for b in boxes.values()]
    assert "udpreceive 7701" in texts and "udpsend 127.0.0.1 7700" in texts
    routed = next(t for t in texts if t.startswith("route "))
    assert "/motion/1/pose" in routed and "/bridge/error" in routed
    # every control message the patch sends is one the daemon accepts
    from bridge.protocol import interpret
    labels = ["normal", "happy", "sad", "angry", "proud", "not-confident", "tired"]
    for b in boxes.values():
        if b["maxclass"] == "message" and not b["text"].startswith("/bridge") and "$" not in b["text"]:
            address, *args = b["text"].split()
            interpret(address, tuple(float(a) if a[0].isdigit() else a for a in args), labels)
