import json
import subprocess
import sys

import numpy as np

from bridge.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge.cli", *args], capture_output=True, text=True, timeout=120)


def test_bvh2npy_writes_positions_and_sidecar(salsa_pair, tmp_path):
    out = tmp_path / "lead.npy"
    result = run("data", "bvh2npy", str(salsa_pair[0]), "--out", str(out))
    assert result.returncode == 0, result.stderr
    p = np.load(out)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert p.shape == (120, 43, 3) and p.dtype == np.float32
    assert meta["fps"] == 120 and len(meta["joints"]) == 43 and meta["parents"][0] == -1
    assert meta["joints"][0] == "hip"


def test_inspect_json(bandai_bvh, capsys):
    assert main(["data", "inspect", str(bandai_bvh), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 20 and info["fps"] == 30 and info["joints"] == 22
    assert info["bone_length"]["max_rel_std"] < 1e-3


def test_bad_bvh_fails_cleanly_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT hip\n{\n  OFFSET 0 0 0\n  CHANNELS 2 Xposition Yposition\n}\n")
    out = tmp_path / "bad.npy"
    result = run("data", "bvh2npy", str(bad), "--out", str(out))
    assert result.returncode == 2
    assert f"{bad}:5" in result.stderr and "CHANNELS 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_build_inspect_render_a_folder(bandai_bvh, tmp_path):
    import shutil
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("joy_01", "joy_02", "calm_01"):
        shutil.copy(bandai_bvh, folder / f"{name}.bvh")
    ds = tmp_path / "mine.npz"
    assert main(["data", "build", str(folder), "--out", str(ds)]) == 0
    result = run("data", "inspect", str(ds), "--json")
    info = json.loads(result.stdout)
    assert info["clips"] == 3 and info["labels"] == {"calm": 1, "joy": 2}
    gif = tmp_path / "clip.gif"
    assert main(["data", "render", str(ds), "--clip", "1", "--out", str(gif)]) == 0
    assert gif.stat().st_size > 1000
    assert main(["data", "render", str(ds), "--clip", "7", "--out", str(gif)]) == 2


def refused(capsys, args: list[str], *words: str) -> None:
    """`motionbridge ARGS` exits with status 2 and one line of error that holds each of `words`."""
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("error:") and "Traceback" not in err, err[-2000:]
    for word in words:
        assert word in lines[-1], (word, lines[-1])


def test_bad_settings_are_refused_before_anything_starts(tmp_path, capsys):
    refused(capsys, ["serve", "--fps", "0", "--dashboard", "off"], "fps", "between 1 and 240", "0")
    refused(capsys, ["serve", "--fps", "-5", "--dashboard", "off"], "fps", "-5")
    refused(capsys, ["serve", "--port", "99999", "--dashboard", "off"], "port", "0-65535", "99999")
    fast = tmp_path / "fast.toml"
    fast.write_text('fps = "fast"\n')
    refused(capsys, ["serve", "--config", str(fast)], "fps", "a number", "'fast'")
    typo = tmp_path / "typo.toml"
    typo.write_text("fsp = 30\n")
    refused(capsys, ["serve", "--config", str(typo)], "unknown settings fsp")


def test_a_port_in_use_says_which_and_what_to_do(solo_model, capsys):
    import socket
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        port = str(taken.getsockname()[1])
        refused(capsys, ["serve", "--port", port, "--dashboard", "off", "--midi", "none"], f"port {port}", "in use",
                "--port")
    finally:
        taken.close()


def test_monitor_with_nothing_there_says_so(capsys):
    import socket
    free = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    refused(capsys, ["monitor", f"127.0.0.1:{port}", "--timeout", "1"], "no daemon answered", f"127.0.0.1:{port}")
    refused(capsys, ["monitor", "localhost", "--timeout", "0.5"], "no daemon answered", ":7700")


def test_data_commands_say_what_they_looked_for(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MOTIONBRIDGE_DATA", str(tmp_path / "nowhere"))
    refused(capsys, ["data", "build", "bandai", "--out", str(tmp_path / "x.npz")], str(tmp_path / "nowhere" / "bandai"),
            "MOTIONBRIDGE_DATA")
    refused(capsys, ["data", "inspect", str(tmp_path / "missing.npz")], "no such file")


def test_inspect_a_checkpoint(solo_model, capsys):
    from models import checkpoint
    assert main(["data", "inspect", str(checkpoint.default_checkpoint("solo").with_suffix(".json")), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "solo checkpoint" and "happy" in info["labels"] and info["parameters"] > 100_000


def test_tables_to_a_pipe_keep_every_word_and_number_whole():
    result = run("midi", "list", "--map", "nanokontrol2")
    assert result.returncode == 0, result.stderr
    assert "emotion/not-confident" in result.stdout and "…" not in result.stdout
