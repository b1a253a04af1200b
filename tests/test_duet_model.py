"""The duet network and its training: shapes, causality, live steps equal to whole sequences, the
schedules and the p-branch, and a tiny training run on real salsa pairs."""
import numpy as np
import pytest
import torch

from models import motion, skeleton
from models.bvh import read_bvh
from models.duet.model import RELATION_FEATURES, DuetConfig, DuetModel, place, relation
from models.duet.training import Options, drifted, kl_weight, teacher_forcing


def model(window: int = 8) -> DuetModel:
    torch.manual_seed(0)
    m = DuetModel(DuetConfig(d_model=32, n_heads=4, latent=8, window=window)).eval()
    torch.nn.init.normal_(m.head.weight, std=0.1)          # a trained head is not zero
    return m


def inputs(B: int = 2, T: int = 20):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(B, T, n, generator=g) for n in (motion.n_features(), motion.n_features(), RELATION_FEATURES)]


def test_shapes_and_size():
    m = DuetModel(DuetConfig())
    out = m(*inputs())
    assert out.next.shape == (2, 20, motion.n_features())
    assert {k: v[0].shape[-1] for k, v in out.latents.items()} == {"lead": 24, "partner": 24, "relation": 24}
    assert out.reconstructions["relation"].shape == (2, 20, RELATION_FEATURES)
    assert m.n_params() * 4 < 20e6                                         # ≤ 20 MB of float32 weights


def test_a_future_frame_cannot_change_a_past_output():
    m = model()
    lead, partner, rel = inputs()
    with torch.no_grad():
        before = m(lead, partner, rel, noise=0.0)
        for x in (lead, partner, rel):
            x[:, 12:] += 5.0
        after = m(lead, partner, rel, noise=0.0)
    for a, b in ((before.next, after.next), (before.placement, after.placement)):
        assert torch.allclose(a[:, :12], b[:, :12], atol=1e-6)
        assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_live_steps_equal_the_whole_sequence_past_the_window():
    m = model(window=8)
    lead, partner, rel = inputs(T=30)                                       # the window slides 22 times
    with torch.no_grad():
        whole = m(lead, partner, rel, noise=0.0)
        state = m.start(pairs=2)
        steps = []
        for t in range(30):
            now = lambda x: x[:, t:t + 1]
            if t % 2:                                   # every other frame prepared ahead, as live
                m.prepare(now(partner), now(rel), state)
                steps.append(m.step(now(lead), None, None, state))
            else:
                steps.append(m.step(now(lead), now(partner), now(rel), state))
    assert (whole.next - torch.cat([s[0] for s in steps], 1)).abs().max() < 1e-4
    assert (whole.placement - torch.cat([s[1] for s in steps], 1)).abs().max() < 1e-4


def test_the_relation_is_where_the_partner_is_seen_from_the_lead(salsa_pair):
    lead, partner = (skeleton.from_bvh(read_bvh(f)) for f in salsa_pair)   # 120 frames each
    r = relation(lead, partner)
    assert r.shape == (120, RELATION_FEATURES)
    turned = relation(motion.rotate_yaw(lead, 1.0), motion.rotate_yaw(partner, 1.0))
    assert np.abs(turned - r).max() < 1e-3                                  # the pair turned together: the same
    x, z, _ = place(r[50], lead[50])
    assert np.hypot(x - partner[50, 0, 0], z - partner[50, 0, 2]) < 1e-4    # and back to the partner's root
    dist = np.hypot(*r[:, :2].T)
    assert 0.2 < np.median(dist) < 2.0                                      # salsa partners stand within reach


def test_a_drifted_partner_is_its_own_body_moved_and_turned_smoothly(salsa_pair):
    lead, partner = (skeleton.from_bvh(read_bvh(f)) for f in salsa_pair)
    moved = drifted(partner, np.random.default_rng(3), 0.3)
    lengths = lambda p: np.linalg.norm(p[:, 1:] - p[:, skeleton.PARENTS[1:]], axis=-1)
    assert np.abs(lengths(moved) - lengths(partner)).max() < 1e-5 and np.allclose(moved[..., 1], partner[..., 1])
    shown, real = relation(lead, moved), relation(lead, partner)
    assert np.abs(shown[:, :2] - real[:, :2]).max() > 0.05                # it is somewhere else ...
    assert np.abs(np.diff(shown[:, :2] - real[:, :2], axis=0)).max() < 0.02    # ... having drifted there


def test_schedules_at_chosen_steps():
    o = Options(kl_annealing="monotonic", kl_max=1.0, kl_warmup=0.5)
    assert [kl_weight(s, 100, o) for s in (0, 25, 50, 90)] == [0.0, 0.5, 1.0, 1.0]
    o = Options(kl_annealing="cyclical", kl_max=1.0, kl_cycles=2)           # cycles of 50: ramp 25, hold 25
    assert [kl_weight(s, 100, o) for s in (0, 10, 25, 40, 50, 60)] == [0.0, 0.4, 1.0, 1.0, 0.0, 0.4]
    assert kl_weight(3, 100, Options(kl_annealing="none", kl_max=0.1)) == 0.1
    assert [teacher_forcing(s, 100, 0.2, 0.3) for s in (0, 19, 20, 60, 100)] == pytest.approx([1, 1, 1, 0.65, 0.3])


@pytest.fixture
def salsa(salsa_pair):
    """The fixture pair (120 frames of take 1) as a dataset, its second half held out."""
    from models.dataset import Clip, assemble
    lead, follow = (skeleton.from_bvh(read_bvh(f)) for f in salsa_pair)
    pair = np.stack([lead, follow], axis=1)
    return assemble([Clip("salsa_01a", "salsa", pair[:70], False), Clip("salsa_01b", "salsa", pair[70:], True)],
                    30.0, "cmu-salsa fixture")


def test_p_means_p_and_a_tiny_run_trains_saves_loads_and_generates(salsa, salsa_pair, tmp_path):
    salsa_pair_paths = salsa_pair
    from models import checkpoint
    from models.duet.training import Task
    from models.train import TrainConfig, train
    task = Task(salsa, DuetConfig(d_model=32, n_heads=4, latent=8, window=16), Options(sequence=24, p_dancers=0.3))
    tc = TrainConfig(steps=20, batch_size=4, eval_every=20, warmup=2)
    task.start(tc, 0, 0, torch.device("cpu"))
    assert abs(np.mean([task.dancers_only() for _ in range(4000)]) - 0.3) < 0.03
    metrics = train(task, tc, tmp_path / "duet", {"command": "test", "seed": tc.seed})
    assert all(np.isfinite(v) for v in metrics.values()) and set(metrics) == {
        "mse", "mse_hold", "place", "place_hold", "velocity"}
    loaded, meta = checkpoint.load(tmp_path / "duet")
    assert meta["kind"] == "duet" and meta["labels"] == ["salsa"] and len(meta["relation_std"]) == RELATION_FEATURES
    assert meta["git_commit"] and meta["wall_s"] > 0
    # ... and generates a partner for the fixture's lead, through the command an artist runs
    import json
    import subprocess
    import sys
    out = tmp_path / "pair.npy"
    run = subprocess.run([sys.executable, "-m", "bridge.cli", "generate", "duet", str(tmp_path / "duet"),
                          "--lead", str(salsa_pair_paths[0]), "--seconds", "0", "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    pair = np.load(out)
    assert pair.shape == (30, 2, skeleton.J, 3) and np.isfinite(pair).all()    # 1 s of 120-fps capture at 30
    assert json.loads(out.with_suffix(".json").read_text())["dancers"] == ["lead", "partner"]


def test_a_fine_tuned_duet_normalises_as_the_weights_it_starts_from(salsa, tmp_path):
    import json
    from models import checkpoint
    from models.duet.training import Task
    from models.train import TrainConfig, train
    config = dict(d_model=32, n_heads=4, latent=8, window=16)
    train(Task(salsa, DuetConfig(**config), Options(sequence=24)), TrainConfig(steps=2, batch_size=4, eval_every=2,
          warmup=1), tmp_path / "pre", {"command": "test", "seed": 0})
    # as if pretrained on other dancers: statistics this data would not give
    meta_file = (tmp_path / "pre").with_suffix(".json")
    pre = json.loads(meta_file.read_text())
    for key in ("feature_mean", "relation_mean", "feature_std", "relation_std"):
        pre[key] = [x * 1.5 + 0.25 for x in pre[key]]
    meta_file.write_text(json.dumps(pre))
    own = {k: np.asarray(v).tolist() for k, v in Task(salsa, DuetConfig(**config), Options(sequence=24)).stats.items()}
    with pytest.raises(ValueError, match="made to fine-tune nothing"):          # stats and weights would disagree
        train(Task(salsa, DuetConfig(**config), Options(sequence=24)), TrainConfig(steps=1, init=str(tmp_path / "pre")),
              tmp_path / "tuned", {})
    task = Task(salsa, DuetConfig(**config), Options(sequence=24), init=str(tmp_path / "pre"))
    # at learning rate 0 the run's checkpoint is exactly where fine-tuning starts
    train(task, TrainConfig(steps=1, batch_size=4, eval_every=1, warmup=1, lr=0.0, init=str(tmp_path / "pre")),
          tmp_path / "tuned", {"command": "test", "seed": 0})
    source, _ = checkpoint.load(tmp_path / "pre")
    model, meta = checkpoint.load(tmp_path / "tuned")
    for key in ("feature_mean", "relation_mean", "feature_std", "relation_std"):
        np.testing.assert_allclose(meta[key], pre[key], rtol=1e-6)
    assert meta["feature_mean"] != own["dancer_mean"]
    assert meta["bone_lengths"] == own["bone_lengths"] and meta["limb_speed"] == own["limb_speed"]
    for name, tensor in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], tensor)
