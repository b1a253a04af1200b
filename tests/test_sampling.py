import pytest
import torch

from models import skeleton
from models.sampling import SAMPLERS, SamplingParams, movement, sample, skeleton_noise


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
    y, g = sample(pi, mu, sigma, prev, SamplingParams(sampler=name), torch.Generator().manual_seed(0), score)
    assert y.shape == (4, 6) and torch.isfinite(y).all()
    assert g.shape == (4,) and ((g >= 0) & (g < 3)).all()


def test_mean_takes_the_most_probable_component():
    pi, mu, sigma, prev = mixture()
    y, g = sample(pi, mu, sigma, prev, SamplingParams(sampler="mean"))
    assert (y == 0).all() and (g == 0).all()


def test_variance_divisor_shrinks_the_noise():
    pi, mu, sigma, prev = mixture(B=2000)
    mu = torch.zeros_like(mu)   # all components centred alike: what is left is noise

    def spread(divisor):
        y, _ = sample(pi, mu, sigma, prev, SamplingParams(sampler="random", variance=divisor),
                      torch.Generator().manual_seed(1))
        return y.std().item()
    assert spread(1.0) == pytest.approx(0.1, rel=0.1)
    assert spread(10.0) == pytest.approx(0.01, rel=0.1)


def test_dynamic_blends_the_best_with_a_mover():
    pi, mu, sigma, prev = mixture(B=500)
    y, _ = sample(pi, mu, sigma, prev, SamplingParams(sampler="dynamic", variance=1e6, top_movers=1))
    # the only top mover is component 2: halfway between means 0 and 2
    torch.testing.assert_close(y, torch.full_like(y, 1.0), atol=1e-4, rtol=0)
    assert movement(mu, prev)[0].argmax() == 2


def test_the_emotion_term_changes_which_component_is_chosen():
    pi, mu, sigma, prev = mixture(B=200)
    likes_0 = torch.tensor([0.0, -3.0, -3.0]).expand(200, 3)
    likes_1 = torch.tensor([-3.0, 0.0, -3.0]).expand(200, 3)

    def chosen(weight, likes):
        params = SamplingParams(sampler="emotion", variance=1e6, temperature=0.2, emotion_weight=weight)
        return sample(pi, mu, sigma, prev, params, torch.Generator().manual_seed(0), likes)[1]
    # same randomness, different emotion: the body goes where the emotion head recognises the target
    assert (chosen(3.0, likes_0) == 0).float().mean() > 0.9
    assert (chosen(3.0, likes_1) == 1).float().mean() > 0.9
    # and without the emotion term the two targets would choose alike
    assert torch.equal(chosen(0.0, likes_0), chosen(0.0, likes_1))


@pytest.mark.parametrize("name", ["random", "dynamic", "emotion"])
def test_hold_keeps_the_previous_component(name):
    pi, mu, sigma, prev = mixture(B=1000)
    pi = torch.zeros_like(pi)                       # no component preferred by the model
    last = torch.full((1000,), 1)
    score = torch.zeros(1000, 3)

    def kept(hold):
        p = SamplingParams(sampler=name, hold=hold, top_movers=3, k=0, emotion_weight=0)
        g = sample(pi, mu, sigma, prev, p, torch.Generator().manual_seed(0), score, last=last)[1]
        return (g == 1).float().mean().item()
    assert kept(0.0) < 0.6 and kept(4.0) > 0.85


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="unknown sampler 'wild'"):
        SamplingParams(sampler="wild")
    with pytest.raises(ValueError):
        SamplingParams(variance=0)


def test_skeleton_noise_keeps_each_joint_standard_normal_and_moves_limbs_together():
    m = skeleton_noise(skeleton.PARENTS, 0.9, root_features=4)
    n = torch.randn(100_000, m.shape[0], generator=torch.Generator().manual_seed(0)) @ m
    torch.testing.assert_close(n.std(0), torch.ones(m.shape[0]), atol=0.02, rtol=0)
    wrist, elbow = 4 + 3 * skeleton.JOINTS.index("l_wrist"), 4 + 3 * skeleton.JOINTS.index("l_elbow")
    corr = torch.corrcoef(n[:, [wrist, elbow, 0, wrist + 1]].T)
    assert abs(corr[0, 1] - 0.9) < 0.01          # the wrist follows its elbow
    assert abs(corr[0, 2]) < 0.02 and abs(corr[0, 3]) < 0.02   # not the root, nor another axis
