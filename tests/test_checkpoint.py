import json

import pytest
import torch

from models import checkpoint
from models.checkpoint import CheckpointError
from models.solo import SoloConfig, SoloModel


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = SoloModel(SoloConfig(context=8, n_layer=1, n_head=2, n_embd=16, n_mix=2))
    base = checkpoint.save(tmp_path / "m", model, {"kind": "solo", "labels": ["a"] * 7, "pace": {"a": 1.0}})
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
