"""The shipped patches talk to a running daemon: Pure Data for real (pd -nogui), Max by its JSON."""
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import free_port, wait_until
from bridge.daemon import ServeConfig, create

PATCHES = Path(__file__).resolve().parents[1] / "patches"


DRIVER = """#N canvas 0 0 300 200 12;
#X obj 20 20 r motionbridge-built;
#X msg 20 50 \\; mb-emotion-tired 1;
#X connect 0 0 1 0;
"""


@pytest.mark.skipif(not shutil.which("pd"), reason="Pure Data (puredata-core) not installed")
def test_pure_data_patch_draws_the_dancer_beside_another_client_and_its_slider_moves_the_target(solo_model, tmp_path):
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)       # another program holds the output port
    holder.bind(("127.0.0.1", 0))
    daemon = create(ServeConfig(port=0, out_port=holder.getsockname()[1], glide=0.0, midi="none", dashboard="off"))
    daemon.start()
    # a second patch that moves the patch's own "tired" slider once the sliders are built from the schema
    (tmp_path / "driver.pd").write_text(DRIVER)
    pd_port = free_port()
    try:
        proc = subprocess.Popen(
            ["pd", "-nogui", "-nosound", "-nomidi", "-noprefs", "-stderr",
             "-open", str(PATCHES / "puredata" / "motionbridge.pd"), "-open", str(tmp_path / "driver.pd"),
             "-send", f"motionbridge-ports {daemon.address[1]} {pd_port}", "-send", "motionbridge-trace 1",
             "-send", "motionbridge-energy 1.5"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        drawn, other = [], []
        deadline = time.monotonic() + 60                  # 40 frames of 20 bones, read as pd prints them
        while len(drawn) < 40 * 20 and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            (drawn if line.startswith("DRAWN:") else other).append(line.rstrip("\n"))
        assert wait_until(lambda: daemon.engine.target[0, daemon.engine.labels.index("tired")] > 0.3)
        assert wait_until(lambda: daemon.engine.params[0].energy == 1.5)
        assert f"127.0.0.1:{pd_port}" in [f"{h}:{p}" for h, p in daemon.subscribers.targets]
        proc.terminate()
        proc.communicate(timeout=5)
    finally:
        daemon.stop()
        holder.close()
    assert len(drawn) >= 40 * 20, "\n".join(other[-20:])
    assert not [line for line in other if "error" in line], other[:10]
    bones = np.array([[float(v) for v in line.split()[1:]] for line in drawn[: 40 * 20]]).reshape(40, 20, 4)
    assert ((bones >= 0) & (bones <= 420)).all()                    # on the 420-pixel stage
    moved = np.abs(bones[-1] - bones[0]).max()
    assert moved > 2, f"the drawn joints moved {moved:.1f} px in 40 frames"
    assert (np.abs(np.diff(bones, axis=0)).max(axis=(1, 2)) > 0).mean() > 0.9   # they change from frame to frame
    height = bones[..., [1, 3]].max(axis=(1, 2)) - bones[..., [1, 3]].min(axis=(1, 2))
    assert height.mean() > 100                                     # a body, not a speck


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
