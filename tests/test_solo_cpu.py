import numpy as np
import pytest
import torch

from models.solo.cpu import CpuStep
from test_solo_model import tiny


@pytest.mark.parametrize("adaln, actions", [(False, 0), (True, 0), (False, 5)])
def test_the_numpy_step_equals_the_model_step_past_the_window(adaln, actions):
    m = tiny(adaln=adaln, n_actions=actions)
    with torch.no_grad():      # away from the zero start of the MDN head, the modulation and the actions
        m.mdn_head.weight.normal_(std=0.5)
        m.condition_in[0].weight.normal_(std=0.5)
        for block in m.blocks:
            if block.ada is not None:
                block.ada.weight.normal_(std=0.1)
    x, e = torch.randn(3, 40, 67), torch.softmax(torch.randn(3, 7), -1)     # 40 frames, window of 12
    pace = torch.rand(3, 40) * 2
    act = torch.eye(actions)[[0, 4, 2]] if actions else None
    fast, reference = CpuStep(m), m
    a, b = m.new_cache(), m.new_cache()
    a.start = b.start = 10 * 3600 * 30           # and late in a show, where positions are large
    with torch.inference_mode():
        for t in range(40):
            got, want = fast.step(x[:, t], e, pace[:, t], a, act), reference.step(x[:, t], e, pace[:, t], b, act)
            for name in ("pi_logits", "mu", "sigma"):
                torch.testing.assert_close(getattr(got, name), getattr(want, name), atol=1e-4, rtol=1e-4)
    assert isinstance(a.k, np.ndarray) and a.k.shape[3] == 12 and a.seen == b.seen == 40
    np.testing.assert_allclose(a.k, b.k.numpy(), atol=1e-4, rtol=1e-4)


def test_the_live_generator_on_a_cpu_steps_in_numpy_and_makes_the_same_frames(solo_model):
    """The shipped model live: NumPy-stepped frames stay with torch-stepped ones (the mean
    sampler, so that no discrete draw can tip one way in one and the other way in the other)."""
    from models.live import Condition
    from models.sampling import SamplingParams
    from models.solo.live import SoloLive
    model, meta = solo_model
    fast, reference = SoloLive(model, meta, seed=1), SoloLive(model, meta, seed=1)
    assert isinstance(fast.stepper, CpuStep)
    reference.stepper = model
    emotion = np.eye(len(meta["labels"]), dtype=np.float32)[[2]]
    condition = Condition(emotion, [SamplingParams(sampler="mean")])
    for _ in range(80):
        np.testing.assert_allclose(fast.step(condition), reference.step(condition), atol=2e-3)
