import numpy as np
import pytest
import torch

from models.generate import RECOGNISE_WINDOW, SCORE_WINDOW, SoloGenerator, parse_emotion
from models.sampling import SamplingParams
from models.solo import SoloConfig, SoloModel


def generator(performers: int = 2) -> SoloGenerator:
    torch.manual_seed(0)
    model = SoloModel(SoloConfig(context=12, n_layer=2, n_head=2, n_embd=32, n_mix=3))
    meta = {"labels": [f"l{i}" for i in range(7)], "fps": 30.0,
            "feature_mean": np.zeros(67, np.float32), "feature_std": np.ones(67, np.float32)}
    return SoloGenerator(model, meta, performers=performers, seed=0)


def run(gen: SoloGenerator, frames: int, params=SamplingParams()) -> torch.Tensor:
    """Normalised frames (B, 1 + frames, F) the generator produced, after its starting frame."""
    out = [gen.prev.clone()]
    emotion = np.eye(7, dtype=np.float32)[:gen.performers]
    for _ in range(frames):
        gen.step(emotion, params)
        out.append(gen.prev.clone())
    return torch.stack(out, 1)


def test_recognised_emotion_is_the_head_over_the_last_two_seconds():
    gen = generator()
    frames = run(gen, 80)
    window = frames[:, -RECOGNISE_WINDOW:]
    expected = torch.softmax(gen.head(window), -1).detach().numpy()
    np.testing.assert_allclose(gen.recognised, expected, atol=1e-5)


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
    positions, recognised = gen.step(np.eye(7, dtype=np.float32)[:3], params)
    assert positions.shape == (3, 21, 3)
    assert np.isfinite(positions).all() and recognised.shape == (3, 7)


def test_warm_up_continues_from_real_frames():
    gen = generator()
    context = np.random.default_rng(0).normal(size=(10, 67)).astype(np.float32)
    gen.warm_up(context, np.eye(7, dtype=np.float32)[:2])
    torch.testing.assert_close(gen.prev, torch.as_tensor(context[-1]).expand(2, -1))
    assert gen.cache.seen == 9


def test_parse_emotion():
    labels = ["angry", "happy", "sad"]
    np.testing.assert_allclose(parse_emotion("happy=0.7,sad=0.3", labels), [0, 0.7, 0.3])
    np.testing.assert_allclose(parse_emotion("joy", labels), [0, 1, 0])
    with pytest.raises(ValueError):
        parse_emotion("happy=0", labels)
