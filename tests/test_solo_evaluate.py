import json
import shutil

import numpy as np
import pytest

from bridge.cli import main, show_eval_solo
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
    assert result["starts"][0] == "rest pose" and len(result["starts"]) == 4
    for name, r in result["per_label"].items():
        for side in ("generated", "real"):
            read = r[side]["read_as"]     # where the windows went: the label's own share is its accuracy
            assert sum(read.values()) == pytest.approx(1) and read.get(name, 0) == pytest.approx(r[side]["accuracy"])
            assert list(read.values()) == sorted(read.values(), reverse=True)
            assert 0 <= r[side]["accuracy"] <= 1 and r[side]["limb_speed"] > 0 and 0 <= r[side]["frozen"] <= 1
            assert r[side]["cadence"] >= 0 and 0 < r[side]["trunk_lean"] < 90
        assert r["real"]["bone_error"] < 0.01 and r["real"]["windows"] > 0
    baseline = result["real_baseline"]
    assert baseline["method"] == "leave-one-action-out" and len(baseline["actions"]) == 10   # all 7 emotions do 10
    assert 0 < result["accuracy"]["real_balanced"] <= 1 and result["diversity_m"] > 0
    # a person reads the same as a table: every label, where its windows went, arms and legs apart
    show_eval_solo(result)                  # what `eval solo` prints without --json
    table = capsys.readouterr().out
    assert all(name in table for name in solo_model[1]["labels"])
    assert "read as" in table and "arm speed" in table and "leg speed" in table and "leave-one-action-out" in table


def _confounded(bandai_bvh, same_cue_everywhere: bool):
    """Two emotions, two actions, from the real fixture clip: in action "a" calm is slow and wild
    fast; in action "b" the same, or the other way round (the cue does not carry across actions)."""
    from models import skeleton
    from models.bvh import read_bvh
    from models.dataset import Clip, assemble
    p = skeleton.from_bvh(read_bvh(bandai_bvh))
    loop = lambda q: np.concatenate([q, q[-2:0:-1]] * 20)[:150, None]
    slow, fast = loop(p), loop(p[::3])
    clips = []
    for act, calm_fast in (("a", False), ("b", not same_cue_everywhere)):
        for take in range(2):
            for label, is_fast in (("calm", calm_fast), ("wild", not calm_fast)):
                clips.append(Clip(f"dataset-1_{act}_{label}_{take:03d}", label, fast if is_fast else slow, False))
    return assemble(clips, 30.0, "fixture", ["calm", "wild"])


def test_the_real_baseline_reads_each_action_with_a_classifier_that_never_saw_it(bandai_bvh):
    from models.solo.evaluate import real_baseline
    carried = real_baseline(_confounded(bandai_bvh, same_cue_everywhere=True))
    assert carried["actions"] == ["a", "b"] and carried["accuracy_balanced"] > 0.9
    # a cue that flips between actions reads perfectly within an action, but not on one never seen
    flipped = real_baseline(_confounded(bandai_bvh, same_cue_everywhere=False))
    assert flipped["accuracy_balanced"] < 0.1
    assert list(flipped["read_as"][0]) == ["wild"] and list(flipped["read_as"][1]) == ["calm"]   # each read as the other


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


def test_eval_asks_a_checkpoint_with_more_labels_for_the_datasets_by_name(bandai_bvh):
    from models.sampling import SamplingParams
    from models.solo.evaluate import asked, evaluate
    ds = _confounded(bandai_bvh, same_cue_everywhere=True)                 # labels calm, wild
    palette = {"labels": ["wild", "old", "calm"]}
    np.testing.assert_array_equal(asked(palette, ds, np.array([0, 1, 1])), [[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"does not know the dataset's labels \['wild'\]"):
        evaluate(None, {"labels": ["calm", "old"]}, ds, SamplingParams())


def test_eval_asks_a_model_that_takes_actions_for_the_real_actions_in_their_real_shares(bandai_bvh):
    from models.solo.evaluate import action_schedule
    ds = _confounded(bandai_bvh, same_cue_everywhere=True)                 # actions a and b, 600 frames each
    meta = {"actions": ["b", "jump", "a"]}
    assert action_schedule(meta, ds, ["a", "b"], 100) == [(0, "a"), (50, "b")]
    assert action_schedule(meta, ds, ["a", "c"], 100) == [(0, "a")]     # only what the model knows
    assert action_schedule({"actions": []}, ds, ["a", "b"], 100) == []    # a model without actions: none asked


def test_eval_of_a_model_that_takes_actions_asks_for_them_or_for_none_as_told(bandai_bvh, tmp_path, capsys):
    data, model = tmp_path / "named.npz", tmp_path / "solo"
    _confounded(bandai_bvh, same_cue_everywhere=True).save(data)        # actions a and b, as many frames each
    assert main(["train", "solo", "--data", str(data), "--out", str(model), "--steps", "5", *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", "solo", str(model), "--data", str(data), "--minutes", "0.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["actions_asked"] == {"a": 3.0, "b": 3.0}
    assert main(["eval", "solo", str(model), "--data", str(data), "--minutes", "0.1", "--actions", "none",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["actions_asked"] == {}


def test_eval_too_short_to_hold_one_window_says_how_long_it_must_be(bandai_bvh):
    from models.sampling import SamplingParams
    from models.solo.evaluate import evaluate
    ds = _confounded(bandai_bvh, same_cue_everywhere=True)
    with pytest.raises(ValueError, match=r"at least 0.10 minutes .* got 0.05"):
        evaluate(None, {"labels": ["calm", "wild"]}, ds, SamplingParams(), minutes=0.05)
