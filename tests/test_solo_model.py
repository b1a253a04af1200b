import pytest
import torch

from models.solo.model import SoloConfig, SoloModel, mdn_nll


def tiny(**kw) -> SoloModel:
    torch.manual_seed(0)
    return SoloModel(SoloConfig(**{"context": 12, "n_layer": 2, "n_head": 2, "n_embd": 32, "n_mix": 3, **kw})).eval()


def test_shapes_and_losses():
    m = tiny()
    x, e, pace = torch.randn(4, 10, 67), torch.softmax(torch.randn(4, 7), -1), torch.rand(4, 10)
    out = m(x, e, pace, targets=torch.randn(4, 10, 67), labels=torch.tensor([0, 1, 2, 3]))
    assert out.pi_logits.shape == (4, 10, 3) and out.mu.shape == out.sigma.shape == (4, 10, 3, 67)
    assert out.mean.shape == (4, 10, 67) and (out.sigma > 0).all()
    assert set(out.losses) == {"mse", "mdn", "velocity", "emotion_real", "emotion_gen"}
    assert m.emotion_head(x).shape == (4, 7)


@pytest.mark.parametrize("adaln, actions", [(False, 0), (True, 0), (False, 4)])
def test_incremental_steps_equal_the_full_forward_beyond_the_window(adaln, actions):
    m = tiny(adaln=adaln, n_actions=actions)
    with torch.no_grad():      # away from the zero starts, so the modulation and the actions are really exercised
        m.condition_in[0].weight.normal_(std=0.5)
        for block in m.blocks:
            if adaln:
                block.ada.weight.normal_(std=0.1)
    x, e = torch.randn(2, 40, 67), torch.softmax(torch.randn(2, 7), -1)   # 40 frames, window of 12
    pace = torch.rand(2, 40) * 2
    act = torch.eye(actions)[[3, 1]] if actions else None
    full = m(x, e, pace, action=act)
    cache = m.new_cache()
    steps = [m.step(x[:, t], e, pace[:, t], cache, act) for t in range(40)]
    torch.testing.assert_close(torch.stack([s.mu for s in steps], 1), full.mu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(torch.stack([s.pi_logits for s in steps], 1), full.pi_logits, atol=1e-4, rtol=1e-4)
    assert cache.k.shape[3] == 12   # the cache never grows past the window


def test_a_step_in_the_tenth_hour_equals_one_in_the_first_minute():
    m = tiny()
    x, e, pace = torch.randn(1, 30, 67), torch.softmax(torch.randn(1, 7), -1), torch.ones(1)
    early, late = m.new_cache(), m.new_cache()
    late.start = 10 * 3600 * 30 + 5                # ten hours of frames at 30 fps already shown
    for t in range(30):
        a, b = m.step(x[:, t], e, pace, early), m.step(x[:, t], e, pace, late)
        torch.testing.assert_close(a.mu, b.mu, atol=1e-4, rtol=1e-4)


def test_the_model_attends_only_to_the_past():
    m = tiny()
    x, e, pace = torch.randn(1, 10, 67), torch.softmax(torch.randn(1, 7), -1), torch.ones(1, 10)
    y, later = x.clone(), pace.clone()
    y[:, 6:] += 5.0
    later[:, 6:] = 3.0
    torch.testing.assert_close(m(x, e, pace).mu[:, :6], m(y, e, later).mu[:, :6])


def test_emotion_and_pace_conditioning_change_the_prediction():
    m = tiny()
    x, pace = torch.randn(1, 10, 67), torch.ones(1, 10)
    a, b = torch.eye(7)[:1], torch.eye(7)[3:4]
    assert not torch.allclose(m(x, a, pace).mu, m(x, b, pace).mu)
    assert not torch.allclose(m(x, a, pace).mu, m(x, a, 2 * pace).mu)


def test_mdn_nll_prefers_targets_near_a_component():
    pi = torch.zeros(1, 1, 2)
    mu = torch.stack([torch.zeros(67), torch.full((67,), 5.0)]).view(1, 1, 2, 67)
    sigma = torch.full((1, 1, 2, 67), 0.5)
    near = mdn_nll(pi, mu, sigma, torch.full((1, 1, 67), 5.0))
    far = mdn_nll(pi, mu, sigma, torch.full((1, 1, 67), 2.5))
    assert near < far


def test_adaln_starts_as_the_plain_model_and_takes_the_condition_into_every_block():
    plain, ada = tiny(), tiny(adaln=True)
    ada.load_state_dict(plain.state_dict(), strict=False)           # the same weights; ada's are zero
    x, e, pace = torch.randn(2, 10, 67), torch.softmax(torch.randn(2, 7), -1), torch.rand(2, 10)
    torch.testing.assert_close(ada(x, e, pace).mu, plain(x, e, pace).mu)
    with torch.no_grad():
        ada.blocks[1].ada.weight.normal_(std=0.1)
    assert not torch.allclose(ada(x, e, pace).mu, plain(x, e, pace).mu)
