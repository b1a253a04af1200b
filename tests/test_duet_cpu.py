"""The duet network's step in NumPy gives what its torch step gives: past the window, late in a
show, with sampled latents; and the live partner on a CPU steps through it."""
import numpy as np
import pytest
import torch

from models.duet.cpu import CpuDuet
from test_duet_model import inputs, model


@pytest.mark.parametrize("prepared", [False, True])
def test_the_numpy_step_equals_the_model_step_past_the_window(prepared):
    m = model(window=8)
    lead, partner, rel = inputs(B=3, T=30)                       # 30 frames through a window of 8
    fast = CpuDuet(m)
    a, b = fast.start(3), m.start(3)
    a.frame = b.frame = 10 * 3600 * 30                           # late in a show, where positions are large
    noise = torch.tensor([0.0, 1.0, 2.0]).reshape(3, 1, 1)      # per pair: the means, as trained, freer
    ga, gb = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    with torch.inference_mode():
        for t in range(30):
            x, p, r = lead[:, t:t + 1], partner[:, t:t + 1], rel[:, t:t + 1]
            if prepared:                                         # as the live partner does, a frame ahead
                fast.prepare(p, r, a, noise, ga)
                m.prepare(p, r, b, noise, gb)
            got, want = fast.step(x, p, r, a, noise, ga), m.step(x, p, r, b, noise, gb)
            for g, w in zip(got, want):
                torch.testing.assert_close(g, w, atol=1e-4, rtol=1e-4)
    assert a.frame == b.frame and a.rings[0][0].seen == b.rings[0][0].seen == 30


def test_the_live_partner_on_a_cpu_steps_in_numpy_and_dances_the_same(duet_model):
    """The shipped model live, its latents sampled: a seeded partner makes the same frames either way."""
    from models.duet.live import Partner
    from test_duet_live import salsa_lead
    lead = salsa_lead()
    fast, reference = Partner(*duet_model, seed=3), Partner(*duet_model, seed=3)
    assert isinstance(fast.net, CpuDuet)
    reference.net = reference.model
    reference.reset()
    for t in range(80):
        np.testing.assert_allclose(fast.step(lead[t][None]), reference.step(lead[t][None]), atol=2e-3)
        fast.settle()
        reference.settle()
