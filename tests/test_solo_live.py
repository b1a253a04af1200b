import copy

import numpy as np
import pytest
import torch

from models.body import joint_bones
from models.live import Condition
from models.metrics import ARMS, frozen_fraction, limb_speed, mean_jerk, travel_speed
from models.motion import joint_speed
from models.sampling import SamplingParams
from models.solo import live
from models.solo.live import PACE_DRIVE_LIMIT, RECOGNISE_WINDOW, SCORE_WINDOW, SoloLive
from models.solo.model import SoloConfig, SoloModel


def generator(performers: int = 2, guidance: bool = False) -> SoloLive:
    torch.manual_seed(0)
    model = SoloModel(SoloConfig(context=12, n_layer=2, n_head=2, n_embd=32, n_mix=3))
    meta = {"labels": [f"l{i}" for i in range(7)], "fps": 30.0,
            "feature_mean": np.zeros(67, np.float32), "feature_std": np.ones(67, np.float32),
            "pace": {f"l{i}": 0.5 + 0.1 * i for i in range(7)}, "guidance": guidance}
    return SoloLive(model, meta, performers=performers, seed=0)


def run(gen: SoloLive, frames: int, params=SamplingParams()) -> torch.Tensor:
    """Normalised frames (B, 1 + frames, F) the generator produced, after its starting frame."""
    out = [gen.prev.clone()]
    emotion = np.eye(7, dtype=np.float32)[:gen.performers]
    for _ in range(frames):
        gen.step(Condition(emotion, [params] * gen.performers))
        out.append(gen.prev.clone())
    return torch.stack(out, 1)


def test_recognised_emotion_is_the_head_over_the_last_two_seconds_once_settled():
    gen = generator()
    with torch.no_grad():
        gen.head.out.weight.mul_(1000)                # an untrained head reads every window as uniform
    frames = run(gen, 80)
    before = torch.softmax(gen.head(frames[:, -RECOGNISE_WINDOW - 1:-1]), -1).detach().numpy()
    latest = torch.softmax(gen.head(frames[:, -RECOGNISE_WINDOW:]), -1).detach().numpy()
    assert not np.allclose(before, latest, atol=1e-4)
    np.testing.assert_allclose(gen.recognised, before, atol=1e-5)    # the last frame is not settled yet
    gen.settle()
    np.testing.assert_allclose(gen.recognised, latest, atol=1e-5)


def test_candidate_scores_equal_the_head_over_each_candidate_window():
    gen = generator()
    frames = run(gen, 20)
    mu = torch.randn(2, 3, 67)
    target = torch.softmax(torch.randn(2, 7), -1)
    scores = gen._emotion_scores(mu, target, slice(None))
    recent = frames[:, -(SCORE_WINDOW - 1):]
    for g in range(3):
        window = torch.cat([recent, mu[:, g:g + 1]], 1)
        expected = (torch.log_softmax(gen.head(window), -1) * target).sum(-1)
        torch.testing.assert_close(scores[:, g], expected, atol=1e-5, rtol=1e-5)


def test_performers_with_different_samplers_step_together():
    gen = generator(performers=3)
    params = [SamplingParams(sampler="emotion"), SamplingParams(sampler="mean"), SamplingParams(sampler="emotion")]
    positions = gen.step(Condition(np.eye(7, dtype=np.float32)[:3], params))
    gen.settle()
    assert positions.shape == (3, 21, 3)
    assert np.isfinite(positions).all() and gen.recognised.shape == (3, 7)


def test_warm_up_continues_from_real_frames():
    gen = generator()
    context = np.random.default_rng(0).normal(size=(10, 67)).astype(np.float32)
    gen.warm_up(context, np.eye(7, dtype=np.float32)[:2])
    torch.testing.assert_close(gen.prev, torch.as_tensor(context[-1]).expand(2, -1))
    assert gen.cache.seen == 9


def test_the_pace_governor_asks_for_more_when_the_body_moves_too_little():
    gen = generator(performers=2)
    target = np.array([1.0, 0.2])                      # m/s; both bodies move at 0.5 m/s
    body = np.zeros((2, 21, 3))
    for t in range(1, 300):
        now, then = (body + [s * 0.5 / gen.fps, 0, 0] for s in (t, t - 1))
        gen._govern(gen._speed(None, None, now, then), target)
    assert gen.measured == pytest.approx([0.5, 0.5])
    assert gen.drive[0] == pytest.approx(PACE_DRIVE_LIMIT)   # too slow: asks for more, up to the limit
    assert gen.drive[1] == pytest.approx(-PACE_DRIVE_LIMIT)  # too fast: asks for less


def test_where_the_checkpoint_knows_limb_paces_the_governor_steers_by_the_limbs():
    gen = generator(performers=1)
    gen.limb_paces = np.full(7, 0.4)
    still = torch.zeros(1, 67)
    walking = still.clone()
    walking[:, :4] = 3.0                          # the root's features move: travel, no limb motion
    waving = still.clone()
    waving[:, 4 + 3 * 8] = 0.5 / gen.fps          # one wrist (of 21 joints) moves 0.5 m in a frame
    body = np.zeros((1, 21, 3))
    assert gen._speed(waving, still, body, None) is None    # the first frame: from the mean pose
    assert gen._speed(walking, still, body, body) == pytest.approx([0.0])
    assert gen._speed(waving, still, body, body) == pytest.approx([0.5 / 21], rel=1e-4)
    gen.step(Condition(np.eye(7, dtype=np.float32)[:1], [SamplingParams()]))
    assert gen._owed[3] == pytest.approx([0.4])   # the goal is the label's limb pace, times the energy


def test_the_shipped_dancer_is_asked_to_get_going_from_its_first_second(solo_model):
    """Its first frame leaves the mean pose with a jump 2-3 times the target pace; measured, the
    governor asked for less and the body stood nearly still for 3-4 s. It is not measured."""
    model, meta = solo_model
    gen = SoloLive(model, meta, performers=len(meta["labels"]), seed=0)
    emotion = np.eye(len(gen.labels), dtype=np.float32)
    for _ in range(30):
        gen.step(Condition(emotion, [SamplingParams()] * len(emotion)))
    gen.settle()
    assert (gen.drive > 0).all()        # still short of every label's pace: it asks for more


def test_the_governor_follows_a_context_as_if_it_had_served_it():
    """A body continuing from a clip that ends standing still is asked for more from its first
    frame; one continuing at its pace is asked for that pace. Measured only from its own first
    frame, it stood still for a second or two after a still clip (eval solo: sad, proud and
    not-confident after two of the held-out contexts)."""
    gen = generator(performers=1)
    gen.limb_paces = np.full(7, 0.4)
    emotion = np.eye(7, dtype=np.float32)[:1]
    still = np.zeros((40, 67), dtype=np.float32)               # the mean pose, held
    gen.warm_up(still, emotion)
    assert gen.drive[0] == pytest.approx(PACE_DRIVE_LIMIT)
    moving = still.copy()
    moving[:, 4::3] = np.arange(40)[:, None] * 0.4 / gen.fps  # every joint at 0.4 m/s
    gen.warm_up(moving, emotion)
    assert abs(gen.drive[0]) < 0.01


def test_the_shipped_proud_dancer_never_stands_still_for_a_second(solo_model):
    """Proud moves in bursts. With a governor that only integrated the shortfall, the body stood
    still for a second at a time (here 11 of the 4 performers' 344 seconds); its proportional part
    asks for more as soon as the body slows."""
    model, meta = solo_model
    gen = SoloLive(model, meta, performers=4, seed=1)
    emotion = np.zeros((4, len(gen.labels)), dtype=np.float32)
    emotion[:, gen.labels.index("proud")] = 1.0
    served = gen.rollout(emotion, int(90 * gen.fps), SamplingParams())[int(3 * gen.fps):]
    assert [frozen_fraction(served[:, p], gen.fps) for p in range(4)] == [0.0] * 4


def test_energy_sets_how_much_the_shipped_model_moves(solo_model):
    model, meta = solo_model
    gen = SoloLive(model, meta, performers=2, seed=0)
    params = [SamplingParams(energy=0.5), SamplingParams(energy=2.0)]
    emotion = np.eye(len(gen.labels), dtype=np.float32)[[0, 0]]
    p = np.stack([gen.step(Condition(emotion, params)) for _ in range(240)])         # (T, 2, J, 3)
    calm, lively = (joint_speed(p[60:, i], gen.fps).mean() for i in range(2))
    assert lively > 1.5 * calm


def test_a_body_travelling_faster_than_its_emotions_real_pace_is_served_at_that_pace(solo_model):
    """Feet that do not step slide after a root that travels faster than real. The cap slows the
    served travel to the emotion's pace times the energy; it never hurries a body, and what the
    model is fed is its own travel: where the cap does not bite, the body is served as without it."""
    model, meta = solo_model
    emotion = np.zeros((2, len(meta["labels"])), dtype=np.float32)
    emotion[:, meta["labels"].index("not-confident")] = 1.0
    params = [SamplingParams(energy=1.0), SamplingParams(energy=0.5)]

    def served(travel_pace: float | None) -> tuple[np.ndarray, torch.Tensor]:
        m = copy.deepcopy(meta)
        m.pop("travel_pace", None)
        if travel_pace is not None:
            m["travel_pace"] = {name: travel_pace for name in m["labels"]}
        gen = SoloLive(model, m, performers=2, seed=0)
        p = np.stack([gen.step(Condition(emotion, params)) for _ in range(450)])    # (T, 2, J, 3)
        return p, gen.prev

    free, fed_free = served(None)
    fast, _ = served(20.0)                    # far faster than any body travels: no cap
    np.testing.assert_array_equal(fast, free)
    slow, fed_slow = served(0.2)
    torch.testing.assert_close(fed_slow, fed_free, rtol=0, atol=0)
    late = slice(150, None)                          # once the cap's second-long average has settled
    travel = [travel_speed(free[late, b], 30.0) for b in range(2)]
    capped = [travel_speed(slow[late, b], 30.0) for b in range(2)]
    assert travel[0] > 0.3 and travel[1] > 0.3        # the model's own travel, well over the caps
    assert capped[0] == pytest.approx(0.2, rel=0.15)
    assert capped[1] == pytest.approx(0.1, rel=0.15)  # half the energy, half the pace
    arms = [limb_speed(p[late, b], 30.0, ARMS) for p in (slow, free) for b in range(2)]
    assert arms[:2] == pytest.approx(arms[2:], rel=1e-4)   # the arms as before (planted legs bend otherwise)


def test_the_served_body_trembles_less_than_the_frames_the_model_is_fed(solo_model, monkeypatch):
    """The shipped dancer's served body is low-passed (SMOOTHING), its bones kept; what the model
    is fed back is its own frames, so its motion is the same with the smoothing or without it."""
    model, meta = solo_model
    emotion = np.eye(len(meta["labels"]), dtype=np.float32)
    served, fed = {}, {}
    for smoothing in (0.0, live.SMOOTHING):
        monkeypatch.setattr(live, "SMOOTHING", smoothing)
        gen = SoloLive(model, meta, performers=len(emotion), seed=1)
        served[smoothing] = np.stack([gen.step(Condition(emotion, [SamplingParams()] * len(emotion)))
                                      for _ in range(240)])                                  # (T, 7, J, 3)
        fed[smoothing] = gen.prev
    torch.testing.assert_close(fed[0.0], fed[live.SMOOTHING], rtol=0, atol=0)
    jerk = {k: np.mean([mean_jerk(p[:, b], 30.0) for b in range(len(emotion))]) for k, p in served.items()}
    assert jerk[live.SMOOTHING] < 0.95 * jerk[0.0]   # exactly 1 unsmoothed
    lengths = np.broadcast_to(np.asarray(meta["bone_lengths"], dtype=np.float32), served[0.0].shape[:3])
    np.testing.assert_allclose(joint_bones(served[live.SMOOTHING])[..., 1:], lengths[..., 1:], rtol=1e-4)


def test_rehearsing_before_each_step_changes_nothing():
    plain, rehearsed = generator(), generator()
    emotion = np.eye(7, dtype=np.float32)[:2]
    for t in range(30):                                  # past a full window of the tiny model's cache
        rehearsed.rehearse()
        condition = Condition(emotion, [SamplingParams()] * 2)
        np.testing.assert_array_equal(rehearsed.step(condition), plain.step(condition))
    torch.testing.assert_close(rehearsed.cache.k, plain.cache.k, rtol=0, atol=0)


def test_guidance_at_intensity_one_is_the_plain_pass_in_one_batch():
    plain, guided = generator(), generator(guidance=True)
    batches = []
    step = guided.stepper.step
    guided.stepper.step = lambda x, *rest: batches.append(x.shape[0]) or step(x, *rest)
    for gen in (plain, guided):
        gen.rehearse()
    one = SamplingParams(intensity=1.0)
    np.testing.assert_allclose(run(plain, 30, one).numpy(), run(guided, 30, one).numpy(), atol=1e-5)
    assert batches == [4] * 30                  # two performers, with and without their emotion, together
    assert plain.unsupported and not guided.unsupported


def test_intensity_moves_the_mixture_along_what_the_emotion_changes():
    gen = generator(guidance=True)
    run(gen, 10)
    x, e = gen.prev, torch.eye(7)[:2]
    pace = torch.full((2,), 0.5)
    mu = {}
    for s in (0.0, 1.0, 2.0):
        cache = copy.deepcopy(gen.cache)
        mu[s] = gen._run(x, e, pace, cache, [s, s]).mu
    plain = copy.deepcopy(gen.cache)
    both = gen._run(x, e, pace, plain)
    torch.testing.assert_close(mu[0.0], both.mu[2:])            # intensity 0: no emotion at all
    torch.testing.assert_close(mu[1.0], both.mu[:2])            # 1: the emotion as trained
    torch.testing.assert_close(mu[2.0] - mu[1.0], mu[1.0] - mu[0.0], atol=1e-5, rtol=0)
    assert (mu[1.0] - mu[0.0]).abs().max() > 1e-4


def test_the_shipped_dancer_keeps_the_bone_lengths_in_its_checkpoint(solo_model):
    """Without the guard its bones are some 4 % off (eval solo); with it every bone of every frame
    served is its length, the legs included after their feet are planted (models.body)."""
    model, meta = solo_model
    assert "bone_lengths" in meta
    gen = SoloLive(model, meta, performers=7, seed=3)
    emotion = np.eye(len(gen.labels), dtype=np.float32)
    p = np.stack([gen.step(Condition(emotion, [SamplingParams()] * 7)) for _ in range(150)])   # (T, 7, J, 3)
    lengths = np.broadcast_to(np.asarray(meta["bone_lengths"], dtype=np.float32), p.shape[:3])
    np.testing.assert_allclose(joint_bones(p)[..., 1:], lengths[..., 1:], rtol=1e-4)


def test_a_body_asked_for_an_action_is_steered_to_that_actions_pace(action_model):
    """Each label's pace doing each action, where its training clips show it: a calm bow is slow,
    a calm walk fast; a wild body asked to bow, which its clips never do, keeps wild's pace."""
    from models import checkpoint
    model, meta = checkpoint.load(action_model)
    assert set(meta["action_pace"]["calm"]) == {"bow", "walk-left"}      # train solo writes them
    meta = {**meta, "pace": {"calm": 0.3, "wild": 0.5}, "action_pace": {"calm": {"bow": 0.1, "walk-left": 0.6}}}
    gen = SoloLive(model, meta, performers=4)
    emotion = np.eye(2, dtype=np.float32)[[0, 0, 0, 1]]
    gen.step(Condition(emotion, [SamplingParams(energy=2.0)] * 4, actions=["bow", "walk-left", None, "bow"]))
    gen.settle()
    assert gen.status()["pace_target"] == pytest.approx([0.2, 1.2, 0.6, 1.0])   # times the energy


def test_a_body_asked_for_an_action_moves_otherwise_than_one_asked_for_none(action_model):
    from models import checkpoint
    model, meta = checkpoint.load(action_model)
    assert meta["actions"] == ["bow", "walk-left"]
    runs = {}
    for asked in (None, "walk-left", "bow"):
        gen = SoloLive(model, meta, performers=2, seed=3)
        condition = Condition(np.eye(2, dtype=np.float32), [SamplingParams(sampler="mean")] * 2, actions=[asked] * 2)
        runs[asked] = np.stack([gen.step(condition) for _ in range(30)])
    assert not np.allclose(runs["walk-left"], runs[None], atol=1e-4)
    assert not np.allclose(runs["walk-left"], runs["bow"], atol=1e-4)
