import collections
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from bridge.cli import main
from models.dataset import action, build_folder
from models import metrics, motion, skeleton
from models.bvh import read_bvh
from models.solo.model import SoloConfig, SoloModel
from models.solo.training import BoneLoss, Options, Rollout, Task, WindowSampler

TINY = ["--context", "16", "--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--n-mix", "3",
        "--batch-size", "8", "--eval-every", "10", "--warmup", "5", "--threads", "1"]


@pytest.fixture
def fixture_dataset(tmp_path, bandai_bvh, salsa_pair):
    folder = tmp_path / "clips"
    folder.mkdir()
    for k in range(3):
        shutil.copy(bandai_bvh, folder / f"calm_{k}.bvh")
        shutil.copy(salsa_pair[k % 2], folder / f"wild_{k}.bvh")
    ds = build_folder(folder)
    path = tmp_path / "tiny.npz"
    ds.save(path)
    return ds, path


def test_windows_carry_the_label_of_their_own_clip(fixture_dataset):
    ds, _ = fixture_dataset
    # mark every clip's frames with its label, then check thousands of shuffled draws
    ds.features  # computed, then overwritten below
    for c in range(ds.n_clips):
        ds.features[c][:] = ds.labels[c] * ds.feature_std + ds.feature_mean
    sampler = WindowSampler(ds, list(range(ds.n_clips)), length=8, mirror=False, seed=3)
    windows, labels, pace, _ = sampler.batch(2000)
    assert set(labels) == {0, 1} and pace.shape == (2000, 8)
    np.testing.assert_allclose(windows[:, :, 10], np.repeat(labels[:, None], 9, 1), atol=1e-4)


@pytest.fixture
def action_dataset(tmp_path, bandai_bvh):
    """Clips named as Bandai names them: calm walks to the left, wild walks to the right, both bow."""
    from models.dataset import Clip, assemble
    p = skeleton.from_bvh(read_bvh(bandai_bvh))[:, None]
    clips = [Clip(f"dataset-1_{act}_{label}_001", label, p, False)
             for act, label in [("walk-left", "calm"), ("walk-right", "wild"), ("bow", "calm"), ("bow", "wild")]]
    ds = assemble(clips, 30.0, "named clips")
    ds.save(tmp_path / "named.npz")
    return ds, tmp_path / "named.npz"


def test_windows_carry_their_clip_s_action_and_a_mirrored_walk_to_the_left_goes_right(action_dataset):
    ds, _ = action_dataset
    task = Task(ds, SoloConfig(context=16, n_layer=1, n_head=2, n_embd=16, n_mix=2), Options())
    assert task.actions == ["bow", "walk-left", "walk-right"] and task.config.n_actions == 3
    sampler = WindowSampler(ds, list(range(ds.n_clips)), length=16, mirror=True, seed=0, balance=True,
                            actions=task.actions)
    _, labels, _, actions = sampler.batch(4000)
    calm = labels == ds.label_names.index("calm")
    walks = calm & (actions != 0)
    # half of the calm walks to the left are drawn mirrored, and then they are walks to the right
    assert 0.4 < (actions[walks] == 2).mean() < 0.6
    assert set(actions) == {0, 1, 2} and (actions >= 0).all()
    assert 0.4 < (actions[calm] == 0).mean() < 0.6                     # bow and walk drawn evenly in a label


def test_data_whose_names_say_no_action_trains_a_model_that_takes_none(fixture_dataset):
    ds, _ = fixture_dataset                                  # calm_0.bvh, wild_1.bvh…
    assert Task(ds, SoloConfig(context=16, n_layer=1, n_head=2, n_embd=16, n_mix=2), Options()).actions == []


def test_fine_tuning_keeps_the_actions_of_the_model_it_starts_from(fixture_dataset, action_dataset, tmp_path):
    from models import checkpoint
    _, plain_data = fixture_dataset                          # labels calm, wild; no actions
    _, named = action_dataset                                # bow, walk-left, walk-right
    plain, acting = tmp_path / "plain", tmp_path / "acting"
    assert main(["train", "solo", "--data", str(plain_data), "--out", str(plain), "--steps", "2", *TINY]) == 0
    assert main(["train", "solo", "--data", str(named), "--out", str(acting), "--steps", "2", *TINY]) == 0
    # a model that takes no actions, fine-tuned on clips whose names say them, still takes none:
    # at learning rate 0 it is exactly the model it started from
    assert main(["train", "solo", "--data", str(named), "--out", str(tmp_path / "a"), "--steps", "1", "--lr", "0",
                 "--init", str(plain), *TINY]) == 0
    before, _ = checkpoint.load(plain)
    after, meta = checkpoint.load(tmp_path / "a")
    assert meta["actions"] == [] and after.config.n_actions == 0 and "action_pace" not in meta
    x = torch.randn(2, 10, 67, generator=torch.Generator().manual_seed(0))
    emotion, pace = torch.eye(2)[[0, 1]], torch.full((2, 10), 0.3)
    torch.testing.assert_close(after.eval()(x, emotion, pace).mu, before.eval()(x, emotion, pace).mu)
    # and one that takes actions keeps them, though its new clips' names say none
    assert main(["train", "solo", "--data", str(plain_data), "--out", str(tmp_path / "b"), "--steps", "1",
                 "--init", str(acting), *TINY]) == 0
    _, meta = checkpoint.load(tmp_path / "b")
    assert meta["actions"] == ["bow", "walk-left", "walk-right"]


def test_bone_loss_is_zero_for_real_poses_and_grows_with_a_short_forearm(bandai_bvh):
    f, _ = motion.encode(skeleton.from_bvh(read_bvh(bandai_bvh))[:20])
    mean, std = f.mean(0), f.std(0) + 1e-3
    loss = BoneLoss(mean, std, "cpu")
    real = torch.as_tensor((f - mean) / std)[None]                              # (1, T, F)
    assert float(loss(real.unsqueeze(2), real)) < 1e-6
    short = f.copy()
    wrist, elbow = skeleton.JOINTS.index("l_wrist"), skeleton.JOINTS.index("l_elbow")
    w = slice(motion.ROOT_FEATURES + 3 * wrist, motion.ROOT_FEATURES + 3 * wrist + 3)
    e = slice(motion.ROOT_FEATURES + 3 * elbow, motion.ROOT_FEATURES + 3 * elbow + 3)
    short[:, w] = f[:, e] + 0.75 * (f[:, w] - f[:, e])                          # a forearm a quarter short
    component = torch.as_tensor((short - mean) / std)[None].unsqueeze(2)
    assert float(loss(component, real)) == pytest.approx(0.25 / 20, rel=1e-3)   # one bone of 20


def test_train_then_generate_end_to_end(fixture_dataset, tmp_path):
    _, data = fixture_dataset
    out = tmp_path / "solo"
    assert main(["train", "solo", "--data", str(data), "--out", str(out), "--steps", "20", *TINY]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["labels"] == ["calm", "wild"] and meta["step"] == 20 and meta["seed"] == 1337
    assert "train solo" in meta["command"] and len(meta["data"]["sha256"]) == 16
    assert meta["device"] == "cpu" and meta["torch"] == torch.__version__ and meta["wall_s"] > 0
    assert len(meta["git_commit"].split("+")[0]) in (40, 7) or meta["git_commit"] == "unknown"
    assert {"mse", "mdn", "emotion_head_accuracy"} <= set(meta["metrics"]["val"]) and meta["guidance"] is True
    assert meta["pace_of"] == "limbs" and set(meta["pace"]) == {"calm", "wild"} and min(meta["pace"].values()) > 0
    assert set(meta["travel_pace"]) == {"calm", "wild"}          # what the served travel is capped at
    assert out.with_suffix(".curve.png").exists()
    # resume continues from step 20, here with the last 4 frames of each window generated free-running
    assert main(["train", "solo", "--data", str(data), "--out", str(out), "--steps", "30", "--resume",
                 "--rollout", "4", *TINY]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["step"] == 30
    last = json.loads(out.with_suffix(".log.jsonl").read_text().splitlines()[-1])
    assert last["w_rollout_limbs"] > 0 and np.isfinite(last["rollout_emotion"] + last["rollout_feet"])
    clip = tmp_path / "clip.npy"
    assert main(["generate", "solo", str(out.with_suffix(".safetensors")), "--emotion", "wild=0.6,calm=0.4",
                 "--seconds", "2", "--out", str(clip)]) == 0
    p = np.load(clip)
    side = json.loads(clip.with_suffix(".json").read_text())
    assert p.shape == (60, 21, 3) and np.isfinite(p).all()
    assert side["emotion"] == {"calm": 0.4, "wild": 0.6} and side["fps"] == 30 and len(side["joints"]) == 21
    assert main(["generate", "solo", str(out), "--emotion", "furious", "--out", str(clip)]) == 2
    grid = tmp_path / "every.gif"                         # every label side by side, one panel each
    assert main(["generate", "solo", str(out), "--emotion", "all", "--seconds", "1", "--out", str(grid)]) == 0
    from PIL import Image
    with Image.open(grid) as gif:
        assert gif.size == (2 * 200, 250) and gif.n_frames == 30
    assert main(["generate", "solo", str(out), "--emotion", "all", "--out", str(clip)]) == 2


def test_distributed_training_on_two_gloo_processes(fixture_dataset, tmp_path):
    _, data = fixture_dataset
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
         "-m", "bridge.cli", "train", "solo", "--data", str(data), "--out", str(out), "--steps", "10", *TINY],
        capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["step"] == 10


def test_balanced_windows_come_evenly_by_label_and_by_action_within_it(bandai_dataset):
    ds = bandai_dataset
    train = ds.split(heldout=False)
    plain = WindowSampler(ds, train, length=64, mirror=False, seed=0)
    even = WindowSampler(ds, train, length=64, mirror=False, seed=0, balance=True)
    draws = 70_000
    picks = even.rng.choice(len(even.clips), size=draws, p=even.weights)
    labels = even.labels[picks]
    share = np.bincount(labels, minlength=len(ds.label_names)) / draws
    np.testing.assert_allclose(share, 1 / len(ds.label_names), atol=0.01)
    assert plain.weights[plain.labels == ds.label_names.index("normal")].sum() > 0.25   # lopsided unbalanced
    # within a label, each action it performs is drawn as often as the others
    names = [action(ds.clip_names[even.clips[k]]) for k in picks]
    for label in range(len(ds.label_names)):
        acts = collections.Counter(a for a, l in zip(names, labels) if l == label)
        counts = np.array(list(acts.values()))
        assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean(), (ds.label_names[label], acts)
    # and the batches themselves follow the weights
    _, batch_labels, _, _ = even.batch(3000)
    np.testing.assert_allclose(np.bincount(batch_labels, minlength=len(ds.label_names)) / 3000,
                               1 / len(ds.label_names), atol=0.03)


def test_a_share_of_windows_is_shown_no_emotion_for_guidance():
    from models.solo.training import withheld
    emotion = torch.eye(7)[torch.randint(0, 7, (20_000,))]
    out = withheld(emotion, 0.1, torch.Generator().manual_seed(0))
    none = out.sum(-1) == 0
    assert 0.09 < none.float().mean() < 0.11
    torch.testing.assert_close(out[~none], emotion[~none])
    assert withheld(emotion, 0.0, torch.Generator()) is emotion


def test_a_run_starts_from_another_checkpoint_taking_every_tensor_that_fits(fixture_dataset, tmp_path):
    from models import checkpoint
    from models.solo.model import SoloConfig, SoloModel
    from models.train import initialise
    _, data = fixture_dataset
    pretrained = tmp_path / "pre"
    assert main(["train", "solo", "--data", str(data), "--out", str(pretrained), "--steps", "10", *TINY]) == 0
    source, _ = checkpoint.load(pretrained)
    # another label list (3, not 2): the layers sized by it start fresh, everything else is taken
    fresh = SoloModel(SoloConfig(n_labels=3, context=16, n_layer=2, n_head=2, n_embd=32, n_mix=3))
    record = initialise(fresh, str(pretrained), "cpu")
    assert record["fresh"] == ["condition_in.0.weight", "emotion_head.out.bias", "emotion_head.out.weight"]
    for name, tensor in source.state_dict().items():
        if name not in record["fresh"]:
            torch.testing.assert_close(fresh.state_dict()[name], tensor)
    wider = SoloModel(SoloConfig(n_embd=64, n_head=2, n_layer=1, context=16, n_mix=3))
    with pytest.raises(ValueError, match="tensors fit it"):
        initialise(wider, str(pretrained), "cpu")
    out = tmp_path / "tuned"
    assert main(["train", "solo", "--data", str(data), "--out", str(out), "--steps", "10", "--init", str(pretrained),
                 *TINY]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["init"]["tensors"] == f"{len(source.state_dict())} of {len(source.state_dict())}"


def test_fine_tuning_keeps_each_label_it_was_pretrained_on_and_its_normalisation(fixture_dataset, tmp_path,
                                                                                 bandai_bvh, salsa_pair):
    from models import checkpoint
    _, data = fixture_dataset                                   # labels calm, wild
    pretrained = tmp_path / "pre"
    assert main(["train", "solo", "--data", str(data), "--out", str(pretrained), "--steps", "10", *TINY]) == 0
    folder = tmp_path / "other"                                 # labels new, wild: one shared, one not
    folder.mkdir()
    for k in range(4):
        shutil.copy(salsa_pair[k % 2], folder / f"wild_{k}.bvh")
        shutil.copy(bandai_bvh, folder / f"new_{k}.bvh")
    tuned = tmp_path / "tuned"
    # at learning rate 0 the run's checkpoint is exactly where fine-tuning starts
    assert main(["train", "solo", "--data", str(folder), "--out", str(tuned), "--steps", "1", "--lr", "0",
                 "--init", str(pretrained), *TINY]) == 0
    source, before = checkpoint.load(pretrained)
    model, meta = checkpoint.load(tuned)
    assert meta["labels"] == ["new", "wild"] and meta["init"]["by_label"] == ["wild"]
    s, m = source.state_dict(), model.state_dict()
    cond = "condition_in.0.weight"                              # (embd, labels + pace)
    torch.testing.assert_close(m[cond][:, 1], s[cond][:, 1])    # wild
    torch.testing.assert_close(m[cond][:, 2], s[cond][:, 2])    # pace
    assert not torch.allclose(m[cond][:, 0], s[cond][:, 0])     # new: fresh
    torch.testing.assert_close(m["emotion_head.out.weight"][1], s["emotion_head.out.weight"][1])
    assert meta["feature_mean"] == before["feature_mean"] and meta["feature_std"] == before["feature_std"]
    assert meta["feature_mean"] != build_folder(folder).feature_mean.tolist()


def test_a_tree_copied_without_git_records_the_commit_it_was_told(monkeypatch):
    from models import train
    assert len(train.git_commit().split("+")[0]) == 40          # here: git answers
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")
    monkeypatch.setattr(subprocess, "run", no_git)
    monkeypatch.delenv("MOTIONBRIDGE_COMMIT", raising=False)
    assert train.git_commit() == "unknown"
    monkeypatch.setenv("MOTIONBRIDGE_COMMIT", "b5ad9f1")
    assert train.git_commit() == "b5ad9f1 (a copy without git history, as told)"


def _rollout_judge(fps: float = 30.0) -> Rollout:
    F = motion.n_features()
    return Rollout(8, fps, np.zeros(F, np.float32), np.ones(F, np.float32), "cpu")


def _frames(p: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(motion.encode(p)[0])[None]           # (1, T, F), unnormalised (mean 0, std 1)


def test_the_rollout_judge_sees_sliding_feet_and_still_limbs(bandai_bvh):
    pose = skeleton.from_bvh(read_bvh(bandai_bvh))[0]
    pose = pose - [0.0, pose[:, 1].min(), 0.0]                           # feet on the floor
    judge, T = _rollout_judge(), 20
    still = _frames(np.repeat(pose[None], T, 0))
    glide = _frames(pose[None] + np.arange(T)[:, None, None] * [0.01, 0.0, 0.02])   # the whole body slides
    floor = torch.zeros(1)
    assert float(judge.foot_skating(still, floor)) < 1e-3
    assert float(judge.foot_skating(glide, floor)) == pytest.approx(np.hypot(0.01, 0.02) * 30, rel=0.02)
    assert float(judge.limb_speed(glide).max()) < 1e-3                    # root travel is not the limbs
    waving = np.repeat(pose[None], T, 0)
    waving[:, metrics.HANDS[0], 0] += 0.02 * np.arange(T)                 # one wrist, 0.6 m/s
    arms, legs, trunk = judge.limb_speed(_frames(waving))[0]
    assert float(arms) == pytest.approx(0.6 / len(metrics.ARMS), rel=0.05) and float(legs) == float(trunk) == 0
    assert float(judge.jerk(glide)) < 1e-3
    tremble = pose[None] + np.random.default_rng(0).normal(0.0, 0.01, (T, *pose.shape))
    assert float(judge.jerk(_frames(tremble))) > 10.0                     # m/s³: 1 cm of tremor at 30 fps
    lifted = _frames(pose[None] + [0.0, 0.3, 0.0] + np.arange(T)[:, None, None] * [0.01, 0.0, 0.02])
    assert float(judge.foot_skating(lifted, floor)) < 0.01               # a foot in the air may move


def test_a_rollout_is_drawn_from_the_model_and_its_losses_reach_the_weights(bandai_bvh):
    f, _ = motion.encode(skeleton.from_bvh(read_bvh(bandai_bvh))[:40])
    mean, std = f.mean(0), f.std(0) + 1e-3
    model = SoloModel(SoloConfig(n_labels=2, context=16, n_layer=1, n_head=2, n_embd=16, n_mix=2))
    judge = Rollout(6, 30.0, mean, std, "cpu")
    w = torch.as_tensor((f[:17] - mean) / std)[None].repeat(3, 1, 1)   # (3, 17, F): 16 inputs + the next
    emotion = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])         # the third shown no emotion
    x = judge.generate(model, w, emotion, torch.full((3, 16), 0.5), torch.Generator().manual_seed(0))
    assert torch.equal(x[:, :11], w[:, :11]) and not torch.allclose(x[:, 11:], w[:, 11:])
    losses = judge.losses(model, w, emotion, torch.tensor([0, 1, 1]), torch.full((3, 16), 0.5),
                          torch.Generator().manual_seed(0))
    assert set(losses) == {"rollout_emotion", "rollout_limbs", "rollout_feet", "rollout_jerk"}
    (losses["rollout_emotion"] + losses["rollout_limbs"] + losses["rollout_jerk"]).backward()
    mixture = model.mdn_head.weight.grad
    assert mixture is not None and mixture.abs().sum() > 0 and torch.isfinite(mixture).all()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.emotion_head.parameters())  # frozen


def test_a_rollout_longer_than_the_window_is_refused(fixture_dataset):
    ds, _ = fixture_dataset
    with pytest.raises(ValueError, match="rollout"):
        Task(ds, SoloConfig(context=16), Options(rollout=16))


def test_a_labels_pace_is_its_clips_speed_per_second_of_motion(bandai_bvh):
    """A long stroll and a short dash of one label: the governor's target is what the body does
    second by second, so the stroll's 150 frames weigh five times the dash's 30. Asked to dash,
    its target is the dash's own pace."""
    from models.dataset import Clip, assemble
    from models.solo.training import action_paces, label_paces
    p = skeleton.from_bvh(read_bvh(bandai_bvh))
    loop = np.concatenate([p, p[-2:0:-1]] * 20)
    stroll, dash = loop[:150, None], loop[::3][:30, None]
    ds = assemble([Clip("dataset-1_walk_calm_000", "calm", stroll, False),
                   Clip("dataset-1_dash_calm_000", "calm", dash, False),
                   Clip("dataset-1_dash_calm_001", "calm", dash, True)], 30.0, "fixture", ["calm"])
    slow, fast = metrics.limb_speed(stroll[:, 0], 30.0), metrics.limb_speed(dash[:, 0], 30.0)
    assert fast > 2 * slow
    assert label_paces(ds)["calm"] == pytest.approx((150 * slow + 30 * fast) / 180, rel=1e-4)   # held-out clip left out
    paces = action_paces(ds, ["bow", "dash", "walk"])                  # no clip bows: no pace for it
    assert paces["calm"] == {"dash": pytest.approx(fast, rel=1e-4), "walk": pytest.approx(slow, rel=1e-4)}
    near, far = metrics.travel_speed(stroll[:, 0], 30.0), metrics.travel_speed(dash[:, 0], 30.0)
    assert label_paces(ds, metrics.travel_speed)["calm"] == pytest.approx((150 * near + 30 * far) / 180, rel=1e-4)


def test_generate_asks_for_an_action_the_model_knows_and_refuses_one_it_does_not(action_model, tmp_path, capsys):
    clip = tmp_path / "walk.npy"
    assert main(["generate", "solo", str(action_model), "--emotion", "calm", "--action", "walk-left", "--seconds", "1",
                 "--out", str(clip)]) == 0
    assert json.loads(clip.with_suffix(".json").read_text())["action"] == "walk-left"
    assert main(["generate", "solo", str(action_model), "--emotion", "calm", "--action", "moonwalk", "--out", str(clip)]) == 2
    assert "--action: unknown action 'moonwalk'; this model knows none, bow, walk-left" in capsys.readouterr().err
    assert main(["generate", "solo", "--action", "walk", "--seconds", "1", "--out", str(clip)]) == 2
    assert "this model was not trained on actions" in capsys.readouterr().err
