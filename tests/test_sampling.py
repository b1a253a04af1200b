import pytest
import torch

from models.sampling import SAMPLERS, SamplingParams, movement, sample


def mixture(B=4, G=3, F=6):
    """Component 0 is most probable and still; component 2 moves most; component 1 in between."""
    prev = torch.zeros(B, F)
    mu = torch.stack([torch.zeros(B, F), torch.full((B, F), 0.5), torch.full((B, F), 2.0)], 1)
    sigma = torch.full((B, G, F), 0.1)
    pi = torch.tensor([3.0, 0.0, -1.0]).expand(B, G)
    return pi, mu, sigma, prev


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_returns_one_frame_per_performer(name):
    pi, mu, sigma, prev = mixture()
    score = torch.zeros(4, 3)
    y = sample(pi, mu, sigma, prev, SamplingParams(sampler=name), torch.Generator().manual_seed(0), score)
    assert y.shape == (4, 6) and torch.isfinite(y).all()


def test_mean_takes_the_most_probable_component():
    pi, mu, sigma, prev = mixture()
    assert (sample(pi, mu, sigma, prev, SamplingParams(sampler="mean")) == 0).all()


def test_variance_divisor_shrinks_the_noise():
    pi, mu, sigma, prev = mixture(B=2000)
    mu = torch.zeros_like(mu)   # all components centred alike: what is left is noise

    def spread(divisor):
        y = sample(pi, mu, sigma, prev, SamplingParams(sampler="random", variance=divisor),
                   torch.Generator().manual_seed(1))
        return y.std().item()
    assert spread(1.0) == pytest.approx(0.1, rel=0.1)
    assert spread(10.0) == pytest.approx(0.01, rel=0.1)


def test_dynamic_blends_the_best_with_a_mover():
    pi, mu, sigma, prev = mixture(B=500)
    y = sample(pi, mu, sigma, prev, SamplingParams(sampler="dynamic", variance=1e6, top_movers=1))
    # the only top mover is component 2: halfway between means 0 and 2
    torch.testing.assert_close(y, torch.full_like(y, 1.0), atol=1e-4, rtol=0)
    assert movement(mu, prev)[0].argmax() == 2


def test_the_emotion_term_changes_which_component_is_chosen():
    pi, mu, sigma, prev = mixture(B=200)
    params = SamplingParams(sampler="emotion", variance=1e6, temperature=0.2, emotion_weight=3.0)
    likes_0 = torch.tensor([0.0, -3.0, -3.0]).expand(200, 3)
    likes_1 = torch.tensor([-3.0, 0.0, -3.0]).expand(200, 3)
    a = sample(pi, mu, sigma, prev, params, torch.Generator().manual_seed(0), likes_0)[:, 0]
    b = sample(pi, mu, sigma, prev, params, torch.Generator().manual_seed(0), likes_1)[:, 0]
    # same randomness, different emotion: the body goes where the emotion head recognises the target
    assert ((a - 0.0).abs() < 1e-3).float().mean() > 0.9
    assert ((b - 0.5).abs() < 1e-3).float().mean() > 0.9
    # and without the emotion term the two targets would choose alike
    neutral = SamplingParams(sampler="emotion", variance=1e6, temperature=0.2, emotion_weight=0.0)
    c = sample(pi, mu, sigma, prev, neutral, torch.Generator().manual_seed(0), likes_0)[:, 0]
    d = sample(pi, mu, sigma, prev, neutral, torch.Generator().manual_seed(0), likes_1)[:, 0]
    assert torch.equal(c, d)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="unknown sampler 'wild'"):
        SamplingParams(sampler="wild")
    with pytest.raises(ValueError):
        SamplingParams(variance=0)
