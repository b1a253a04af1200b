"""The shipped patches talk to a running daemon: Pure Data for real (pd -nogui), Max by its JSON."""
import json
import re
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
#X msg 20 50 \\; mb-emotion-tired 1 \\; motionbridge-energy 9;
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
             "-send", "motionbridge-energy 1.5", "-send", "motionbridge-intensity 3"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        drawn, other = [], []
        deadline = time.monotonic() + 60                  # 40 frames of 20 bones, read as pd prints them
        while (len(drawn) < 40 * 20 or not any("error" in line for line in other)) and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            (drawn if line.startswith("DRAWN:") else other).append(line.rstrip("\n"))
        assert wait_until(lambda: daemon.engine.target[0, daemon.engine.labels.index("tired")] > 0.3)
        assert wait_until(lambda: daemon.engine.params[0].energy == 1.5)
        assert wait_until(lambda: daemon.engine.params[0].intensity == 3.0)   # the shipped model is guided (it starts at 2)
        assert f"127.0.0.1:{pd_port}" in [f"{h}:{p}" for h, p in daemon.subscribers.targets]
        proc.terminate()
        proc.communicate(timeout=5)
    finally:
        daemon.stop()
        holder.close()
    assert len(drawn) >= 40 * 20, "\n".join(other[-20:])
    # energy 9 is out of range: the daemon refuses it, and the patch shows why
    assert [line for line in other if "error" in line] == ["motionbridge-error: /energy must be between 0 and 5, got 9"]
    bones = np.array([[float(v) for v in line.split()[1:]] for line in drawn[: 40 * 20]]).reshape(40, 20, 4)
    assert ((bones >= 0) & (bones <= 420)).all()                    # on the 420-pixel stage
    moved = np.abs(bones[-1] - bones[0]).max()
    assert moved > 2, f"the drawn joints moved {moved:.1f} px in 40 frames"
    assert (np.abs(np.diff(bones, axis=0)).max(axis=(1, 2)) > 0).mean() > 0.9   # they change from frame to frame
    height = bones[..., [1, 3]].max(axis=(1, 2)) - bones[..., [1, 3]].min(axis=(1, 2))
    assert height.mean() > 100                                     # a body, not a speck


# Max 8's own object classes this patch may use (its standard vocabulary: no third-party externals)
MAX_BOXES = {"newobj", "message", "comment", "jsui", "multislider", "flonum", "slider", "umenu", "toggle", "button"}
MAX_OBJECTS = {"udpreceive", "udpsend", "route", "prepend", "loadbang", "metro", "unpack", "pack", "fromsymbol",
               "zl", "t", "trigger", "ctlin", "print"}


def test_max_patch_uses_max_objects_is_wired_and_subscribes_on_its_own_port():
    patch = json.loads((PATCHES / "max" / "motionbridge.maxpat").read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patch["boxes"]}
    for b in boxes.values():
        assert b["maxclass"] in MAX_BOXES, b
        if b["maxclass"] == "newobj":
            assert b["text"].split()[0] in MAX_OBJECTS, b["text"]
        if b["maxclass"] == "jsui":
            assert (PATCHES / "max" / b["filename"]).exists()
    for line in patch["lines"]:
        src, dst = line["patchline"]["source"], line["patchline"]["destination"]
        assert src[0] in boxes and dst[0] in boxes
        assert src[1] < boxes[src[0]]["numoutlets"] and dst[1] < boxes[dst[0]]["numinlets"]
    texts = [b.get("text", "") for b in boxes.values()]
    listen = next(t for t in texts if t.startswith("udpreceive ")).split()[1]
    assert "udpsend 127.0.0.1 7700" in texts and listen != "7701"      # 7701 stays free for another client
    assert f"/bridge/subscribe {listen}" in texts
    routed = next(t for t in texts if t.startswith("route "))
    assert {"/motion/schema", "/motion/1/pose", "/motion/2/pose", "/bridge/error"} <= set(routed.split())
    assert "/midi/cc $3 $2 $1" in texts and "ctlin" in texts
    # every control message the patch sends is one the daemon accepts
    from bridge.protocol import interpret
    labels = ["normal", "happy", "sad", "angry", "proud", "not-confident", "tired"]
    for b in boxes.values():
        if b["maxclass"] == "message" and b["text"].startswith("/") and not b["text"].startswith("/bridge") \
                and "$" not in b["text"]:
            address, *args = b["text"].split()
            interpret(address, tuple(float(a) if a[0].isdigit() else a for a in args), labels, modes=("solo", "partner", "duet"),
                      actions=["bow", "run", "walk"])     # a model trained on actions (the shipped one takes none)


# TouchDesigner's documented operator types the builder script may create
TD_OPERATORS = {"oscinCHOP", "oscoutDAT", "timerCHOP", "chopexecuteDAT", "scriptCHOP", "geometryCOMP", "sphereSOP",
                "cameraCOMP", "lightCOMP", "renderTOP", "containerCOMP", "sliderCOMP", "panelexecuteDAT", "midiinCHOP",
                "constantMAT", "buttonCOMP"}


def test_touchdesigner_script_compiles_and_creates_only_documented_operators():
    import ast
    source = (PATCHES / "touchdesigner" / "motionbridge_td.py").read_text()
    tree = ast.parse(source)
    # every operator type named in the code (oscinCHOP, renderTOP, …), created or not
    created = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and re.fullmatch(r"[a-z]+(CHOP|DAT|COMP|SOP|TOP|MAT)", n.id)}
    assert created and created <= TD_OPERATORS, created - TD_OPERATORS
    assert {"oscinCHOP", "oscoutDAT", "geometryCOMP", "renderTOP", "sliderCOMP", "midiinCHOP"} <= created
    callbacks = [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Attribute) and t.attr == "text" for t in n.targets)]
    assert len(callbacks) == 5
    texts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
             for t in n.targets if isinstance(t, ast.Name)}
    for value in callbacks:                       # the callbacks it writes into DATs compile too
        compile(eval(ast.unparse(value), {"LISTEN": 7702, "ranges": {"energy": (0.25, 4.0)}, **texts}), "callback", "exec")
    assert "7702" in source and "/bridge/subscribe" in source
    # every action button sends an action the daemon accepts from a model trained on actions
    from bridge.protocol import SetAction, interpret
    offered = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id == "ACTIONS" for t in n.targets))
    assert offered[0] == "none" and "walk" in offered
    for name in offered:
        assert isinstance(interpret("/action", (name,), ["happy"], actions=["bow", "run", "walk"])[0], SetAction)
