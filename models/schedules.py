"""Loss-weight and teacher-forcing schedules: pure functions of the training step."""
from __future__ import annotations

import math


def ramp(step: int, start: float, end: float, delay: int, length: int, shape: str = "linear") -> float:
    """`start` until `delay`, then to `end` over `length` steps; constant, linear or exponential.

    The MDN weight starts small rather than at zero: switching a 0-weighted NLL on later makes the
    keypoint loss erratic (the seed's own notes), while a delayed slow ramp keeps it smooth.
    """
    if shape not in ("constant", "linear", "exponential"):
        raise ValueError(f"unknown schedule shape {shape!r}: constant, linear or exponential")
    if shape == "constant":
        return end
    if step <= delay:
        return start
    t = min(1.0, (step - delay) / max(1, length))
    if shape == "linear":
        return start + (end - start) * t
    # exponential: geometric interpolation, equal ratios per step, so most of the growth comes late
    lo = max(start, 1e-6)
    return lo * (end / lo) ** t


def kl_weight(step: int, mode: str, max_weight: float = 1.0, warmup: int = 1000, cycle: int = 2000) -> float:
    """KL annealing for VAEs: monotonic (0 → max over warmup), cyclical (ramp over the first half
    of every cycle, then hold), or none (always max)."""
    if mode == "none":
        return max_weight
    if mode == "monotonic":
        return max_weight * min(1.0, step / max(1, warmup))
    if mode == "cyclical":
        phase = (step % cycle) / cycle
        return max_weight * min(1.0, 2.0 * phase)
    raise ValueError(f"unknown KL annealing {mode!r}: monotonic, cyclical or none")


def teacher_forcing(step: int, total: int, floor: float) -> float:
    """Probability that an input frame is the real one rather than the model's own prediction:
    1 at the start, decaying linearly to `floor` at the end of training."""
    return 1.0 - (1.0 - floor) * min(1.0, step / max(1, total))


def learning_rate(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warmup, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))
