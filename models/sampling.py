"""Choosing the next frame from the MDN: four samplers, vectorised over performers.

Every sampler picks one mixture component per performer for the whole pose (so a pose is
coherent: no joint from one component and its neighbour from another), then samples it.

- mean:    the mean of the most probable component.
- random:  standard MDN sampling.
- dynamic: the most probable component's mean blended with one that moves away from the previous
           frame (drawn among the top movers by their weights), sigma from the mover.
- emotion: the component that best trades movement, noise (k·sigma) and how strongly the emotion
           head recognises the target emotion in that candidate next frame.

Temperature softens the component choice and scales sigma; the variance divisor divides sigma.
`hold` favours the component chosen for the previous frame. Components are different next
poses, so switching between them frame by frame reads as jitter (it was most of the jerk of the
first shipped model); held, a component carries one movement through, and the body still changes
course whenever another component wins by more than the hold.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

SAMPLERS = ("mean", "random", "dynamic", "emotion")


@dataclass
class SamplingParams:
    sampler: str = "emotion"
    variance: float = 3.0         # variance divisor: sigma is divided by it
    temperature: float = 1.0
    k: float = 1.0                # noise penalty in the emotion sampler
    emotion_weight: float = 1.0
    top_movers: int = 3
    hold: float = 4.0             # log-odds bonus for keeping the previous frame's component
    energy: float = 1.0           # pace asked of the model, times the emotion's typical pace
    # classifier-free guidance scale (models trained with guidance). 2, not 1: the shipped model's
    # emotions read at their real rate there (eval solo: ratio 1.18), and at 1 at half of it (0.61)
    intensity: float = 2.0

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}")
        if not self.variance > 0 or not self.temperature > 0:
            raise ValueError("variance divisor and temperature must be positive")


def skeleton_noise(parents: list[int], rho: float, root_features: int) -> torch.Tensor:
    """A matrix M (F, F) such that `n @ M`, for n standard normal over the features of a frame,
    is still standard normal per feature, but each joint's noise is correlated `rho` with its
    parent's (coordinate by coordinate; the root features stay independent).

    The MDN's sigma is diagonal, as if joints moved independently. Drawn independently, the
    noise of a wrist and of its elbow pull the forearm longer and shorter; drawn like this, a
    limb moves as a piece and keeps its length far better, with the same spread per joint."""
    J = len(parents)
    chain = torch.zeros(J, J, dtype=torch.float64)            # row j: joint j's noise from each joint's draw
    for j, parent in enumerate(parents):                        # parents come before their children
        if parent >= 0:
            chain[j] = rho * chain[parent]
        chain[j, j] += 1.0 if parent < 0 else (1 - rho ** 2) ** 0.5
    F = root_features + 3 * J
    m = torch.eye(F, dtype=torch.float64)
    m[root_features:, root_features:] = torch.kron(chain, torch.eye(3, dtype=torch.float64)).T
    return m.float()


def _rows(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """x (B, G, ...) at component g (B,) → (B, ...)."""
    return x[torch.arange(x.shape[0], device=x.device), g]


def movement(mu: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
    """How far each component's mean moves from the previous frame: (B, G)."""
    return (mu - prev.unsqueeze(1)).abs().mean(-1)


def draw(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One index per row from softmax(logits), by Gumbel-max: no host round trip on a GPU."""
    u = torch.rand(logits.shape, generator=generator, device="cpu").to(logits.device).clamp_(1e-9, 1 - 1e-9)
    return (logits - torch.log(-torch.log(u))).argmax(-1)


def wander(noise: torch.Tensor, rho: float, generator: torch.Generator | None) -> torch.Tensor:
    """The noise (B, F) of the frame after one drawn with `noise`: still standard normal, but
    correlated `rho` with it (AR(1)), so it wanders instead of jumping."""
    fresh = torch.randn(noise.shape, generator=generator, device="cpu").to(noise.device)
    return rho * noise + (1 - rho ** 2) ** 0.5 * fresh


def held(logits: torch.Tensor, last: torch.Tensor | None, hold: float,
          index: torch.Tensor | None = None) -> torch.Tensor:
    """logits (B, n) over components `index` (B, n; default: all of them, in order), with `hold`
    added where the component is `last`."""
    if last is None or hold == 0:
        return logits
    if index is None:
        index = torch.arange(logits.shape[-1], device=logits.device)
    return logits + hold * (index == last[:, None])


def choose_emotion(pi_logits: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, prev: torch.Tensor,
                   emotion_score: torch.Tensor, p: SamplingParams, generator: torch.Generator | None,
                   last: torch.Tensor | None = None) -> torch.Tensor:
    """Component index (B,) for the emotion sampler; emotion_score (B, G) is the log-probability
    the emotion head gives the target emotion for each candidate frame."""
    # each term standardised across components, so movement, noise and emotion weigh in comparable
    # units; stacked, so that is one set of ops for all three
    terms = torch.stack([movement(mu, prev), sigma.mean(-1), emotion_score], dim=1)            # (B, 3, G)
    std, mean = torch.std_mean(terms, dim=-1, correction=0, keepdim=True)
    z = (terms - mean) / (std + 1e-6)
    score = z[:, 0] - p.k * z[:, 1] + p.emotion_weight * z[:, 2]
    logits = held(torch.log_softmax(pi_logits, -1) + score, last, p.hold) / p.temperature
    return draw(logits, generator)


def sample(pi_logits: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, prev: torch.Tensor,
           p: SamplingParams, generator: torch.Generator | None = None,
           emotion_score: torch.Tensor | None = None, noise: torch.Tensor | None = None,
           last: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Next frames (B, F) and the component each follows (B,), from pi_logits (B, G), mu and
    sigma (B, G, F), previous frames (B, F) and the components they followed (`last`, B).

    `noise` (B, F), standard normal, is the draw to scale by sigma; live generation passes noise
    that is correlated over time, since fresh noise every frame reads as jitter.
    """
    G = mu.shape[1]
    if noise is None:
        noise = torch.randn(mu.shape[0], mu.shape[2], generator=generator, device="cpu").to(mu.device)
    scale = p.temperature / p.variance
    best = pi_logits.argmax(-1)
    if p.sampler == "mean":
        return _rows(mu, best), best
    if p.sampler == "random":
        g = draw(held(pi_logits / p.temperature, last, p.hold), generator)
        return _rows(mu, g) + _rows(sigma, g) * scale * noise, g
    if p.sampler == "dynamic":
        movers = movement(mu, prev).topk(min(p.top_movers, G), dim=-1).indices         # (B, k)
        pick = draw(held(pi_logits.gather(1, movers) / p.temperature, last, p.hold, movers), generator)
        g = movers.gather(1, pick[:, None])[:, 0]
        centre = 0.5 * (_rows(mu, best) + _rows(mu, g))
        return centre + _rows(sigma, g) * scale * noise, g
    if emotion_score is None:
        raise ValueError("the emotion sampler needs emotion scores for the candidates")
    g = choose_emotion(pi_logits, mu, sigma, prev, emotion_score, p, generator, last)
    return _rows(mu, g) + _rows(sigma, g) * scale * noise, g
