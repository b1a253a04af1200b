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
