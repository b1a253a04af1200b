import json
import shutil

import pytest

from bridge.cli import main
from models.dataset import build_folder

TINY = ["--context", "16", "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--n-mix", "2",
        "--batch-size", "4", "--eval-every", "5", "--warmup", "1", "--threads", "1"]


def test_eval_reports_every_label_beside_real_motion(solo_model, capsys):
    from models.dataset import data_root
    if not (data_root() / "bandai").is_dir():
        pytest.skip(f"Bandai data not found at {data_root() / 'bandai'} (set MOTIONBRIDGE_DATA)")
    assert main(["eval", "solo", "--data", "bandai", "--minutes", "0.15", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["per_label"]) == solo_model[1]["labels"]
    for r in result["per_label"].values():
        assert r["speed_ratio"] > 0 and 0 <= r["frozen_fraction"] <= 1 and 0 <= r["real_frozen_fraction"] <= 1
    assert 0 <= result["emotion_accuracy_generated"] <= 1 and 0 < result["emotion_accuracy_real_heldout"] <= 1
    assert result["diversity_m"] > 0


def test_eval_on_clips_too_short_to_judge_says_so(tmp_path, bandai_bvh, salsa_pair, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    for k in range(3):
        shutil.copy(bandai_bvh, folder / f"calm_{k}.bvh")
        shutil.copy(salsa_pair[k % 2], folder / f"wild_{k}.bvh")
    data = tmp_path / "tiny.npz"
    build_folder(folder).save(data)
    model = tmp_path / "solo"
    assert main(["train", "solo", "--data", str(data), "--out", str(model), "--steps", "5", *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", "solo", str(model), "--data", str(data), "--minutes", "0.1"]) == 2
    assert "4-s windows, so eval needs longer clips" in capsys.readouterr().err
