import json

import pytest
import torch

from models import checkpoint
from models.checkpoint import CheckpointError
from models.solo.model import SoloConfig, SoloModel


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = SoloModel(SoloConfig(context=8, n_layer=1, n_head=2, n_embd=16, n_mix=2))
    labels = [f"l{i}" for i in range(7)]
    base = checkpoint.save(tmp_path / "m", model, {"kind": "solo", "labels": labels, "pace": {x: 1.0 for x in labels},
                                                   "feature_mean": [0.0] * 67, "feature_std": [1.0] * 67})
    return model, base


def test_round_trip_rebuilds_the_model_from_the_files_alone(saved):
    model, base = saved
    loaded, meta = checkpoint.load(base.with_suffix(".safetensors"))
    assert meta["model_args"]["n_embd"] == 16 and not loaded.training
    x, e, pace = torch.randn(1, 5, 67), torch.eye(7)[:1], torch.ones(1, 5)
    torch.testing.assert_close(loaded(x, e, pace).mu, model.eval()(x, e, pace).mu)


def test_corrupt_weights_give_a_clear_error(saved):
    _, base = saved
    path = base.with_suffix(".safetensors")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"m\.safetensors: corrupt weights"):
        checkpoint.load(base)


def test_weights_that_do_not_fit_the_config(saved):
    _, base = saved
    meta = json.loads(base.with_suffix(".json").read_text())
    meta["model_args"]["n_embd"] = 32
    base.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="weights do not match the config"):
        checkpoint.load(base)


def test_missing_unknown_and_garbled_checkpoints(saved, tmp_path):
    _, base = saved
    with pytest.raises(CheckpointError, match="not found"):
        checkpoint.load(tmp_path / "nothing")
    base.with_suffix(".json").write_text('{"kind": "opera"}')
    with pytest.raises(CheckpointError, match="unknown model kind 'opera'"):
        checkpoint.load(base)
    base.with_suffix(".json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt checkpoint metadata"):
        checkpoint.load(base)


def test_shipped_default_model_loads():
    base = checkpoint.default_checkpoint("solo")
    if not base.with_suffix(".safetensors").exists():
        pytest.skip("no shipped solo model in this checkout")
    model, meta = checkpoint.load(base)
    assert meta["labels"] == ["normal", "happy", "sad", "angry", "proud", "not-confident", "tired"]
    assert base.with_suffix(".safetensors").stat().st_size < 20e6
    assert "train solo" in meta["command"] and meta["data"]["sha256"]


def test_a_checkpoint_from_before_pace_conditioning_asks_to_be_retrained(saved):
    _, base = saved
    meta = json.loads(base.with_suffix(".json").read_text())
    del meta["pace"]
    base.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="before pace conditioning; retrain"):
        checkpoint.load(base)


def _edit(base, change):
    meta = json.loads(base.with_suffix(".json").read_text())
    meta = change(meta)
    base.with_suffix(".json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change, says", [
    (lambda m: [m], "must hold a JSON object, got list"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_embd": "wide"}}, "model_args.n_embd must be a whole number, got 'wide'"),
    (lambda m: {k: v for k, v in m.items() if k != "labels"}, "labels must be a list"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_head": 0}}, "n_head must be 1-64, got 0"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_embd": 65536}}, "n_embd must be 1-4096, got 65536"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_embd": 4096, "n_layer": 64}}, "at most 50 M are loaded"),
    (lambda m: {**m, "labels": m["labels"][:5]}, "5 labels, but the model has n_labels 7"),
    (lambda m: {**m, "feature_mean": m["feature_mean"][:60]}, "feature_mean must be 67 finite numbers"),
    (lambda m: {**m, "feature_std": [0.0] * 67}, "feature_std must be 67 finite positive numbers"),
    (lambda m: {**m, "pace": {}}, "pace must give every label"),
    (lambda m: {**m, "actions": ["walk"]}, "actions must name the model's 0 actions"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_actions": 2}, "actions": ["walk", "walk"]},
     "actions must name the model's 2 actions (different names"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_actions": 1}, "actions": [["walk"]]},
     "actions must name the model's 1 actions"),
    (lambda m: {**m, "action_pace": {"normal": {"walk": 0.4}}}, "action_pace must give labels' paces"),
    (lambda m: {**m, "model_args": {**m["model_args"], "n_actions": 1}, "actions": ["walk"],
                "action_pace": {"normal": {"walk": float("nan")}}}, "action_pace must give labels' paces"),
    (lambda m: {**m, "action_pace": {"nobody": {}}}, "action_pace must give labels' paces"),
    (lambda m: {**m, "travel_pace": {"normal": 0.4}}, "travel_pace must give every label"),
    (lambda m: {**m, "travel_pace": {x: float("inf") for x in m["labels"]}}, "travel_pace must give every label"),
    (lambda m: {**m, "travel_pace": [0.4]}, "travel_pace must give every label"),
    (lambda m: {**m, "labels": [[0]] * 7}, "labels must be a list"),
    (lambda m: {**m, "fps": 1e9}, "fps must be a number from 1 to 240"),
])
def test_every_defect_is_one_clear_line_before_anything_is_built(saved, change, says):
    _, base = saved
    _edit(base, change)
    with pytest.raises(CheckpointError) as err:
        checkpoint.load(base)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_weights_with_nan_are_refused(saved):
    from safetensors.torch import load_file, save_file
    _, base = saved
    state = load_file(str(base.with_suffix(".safetensors")))
    next(iter(state.values()))[0] = float("nan")
    save_file(state, str(base.with_suffix(".safetensors")))
    with pytest.raises(CheckpointError, match="NaN or infinite values"):
        checkpoint.load(base)


def test_serve_refuses_a_bad_checkpoint_with_exit_status_2(saved, tmp_path):
    import subprocess
    import sys
    _, base = saved
    _edit(base, lambda m: {**m, "model_args": {**m["model_args"], "n_head": 0}})
    done = subprocess.run([sys.executable, "-m", "bridge.cli", "serve", "--checkpoint", str(base), "--port", "0",
                           "--dashboard", "off", "--midi", "none"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "error:" in lines[0] and "n_head must be 1-64" in lines[0], done.stderr


def test_a_folder_holding_one_checkpoint_is_that_checkpoint(saved, tmp_path):
    model, base = saved
    loaded, meta = checkpoint.load(tmp_path)
    assert checkpoint.locate(tmp_path) == base and meta["kind"] == "solo"
    checkpoint.save(tmp_path / "other", model, json.loads(base.with_suffix(".json").read_text()))
    with pytest.raises(CheckpointError, match=r"2 checkpoints \(m, other\); name one"):
        checkpoint.load(tmp_path)
    with pytest.raises(CheckpointError, match="0 checkpoints"):
        checkpoint.load(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else None)


def test_serving_a_model_imports_no_training_code():
    """The daemon's path from a checkpoint to a running engine: no optimizer, loss or eval code."""
    import subprocess
    import sys
    code = ("import sys; from bridge.daemon import ServeConfig, create; "
            "d = create(ServeConfig(port=0, out_port=9)); d.transport.close(); "
            "print(' '.join(m for m in sys.modules if m.startswith('models.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    modules = set(loaded.stdout.split())
    assert "models.solo.live" in modules
    assert not modules & {"models.train", "models.solo.training", "models.solo.evaluate", "models.metrics",
                          "models.dataset", "models.schedules"}
