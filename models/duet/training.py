"""Training the duet model on pairs (CMU salsa: lead and follow recorded together), as a `Task`
the shared loop (models.train) runs.

A batch is windows of both dancers' world positions, turned into features here (so augmenting the
positions is exact): mirrored left/right, lead and follower swapped. (Turning the pair about the
vertical is no augmentation at all: every feature is already measured from the dancers' own
headings.) Whole takes are held out (14 and 15).

Live, the partner stands where its own predicted steps took it, and that drifts from where a
follower would be; trained only on real pairs, the network never sees a drifted relation and cannot
learn to undo one. So in half the windows the relation it is shown is the partner's, moved and
turned by a drift that grows over the window (`place_drift`), while the placement it must predict
is the real next one.

Losses: the partner's next frame (MSE, normalised like the inputs), a velocity loss (the change
over `velocity_lag` frames against the real one), the three VAEs' reconstructions, and their KL
with annealing (monotonic, cyclical or none). With probability `p_dancers` (drawn uniformly, so p
means p) a step trains only the two single-dancer VAEs on reconstruction. Teacher forcing holds
until `teacher_forcing_start` and then decays linearly: the partner's past is more and more its
own predictions, as it is live.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import checkpoint, motion, schedules
from ..body import median_bones
from ..dataset import MotionDataset
from ..metrics import limb_speed
from ..train import TrainConfig
from .model import PLACEMENT, DuetConfig, DuetModel, kl, relation

DATA = "cmu-salsa"                    # what `train duet` trains on unless told


@dataclass
class Options:
    sequence: int = 64                # frames per training window
    kl_annealing: str = "cyclical"    # monotonic | cyclical | none
    kl_max: float = 1e-3              # the KL weight annealing reaches
    kl_warmup: float = 0.25           # monotonic: fraction of steps the ramp takes
    kl_cycles: int = 4                # cyclical: cycles over the run (each ramps over its first half)
    w_velocity: float = 0.5
    velocity_lag: int = 1
    w_reconstruction: float = 0.2
    p_dancers: float = 0.1            # share of steps that train only the single-dancer VAEs
    teacher_forcing_start: float = 0.2   # fraction of steps with all-real inputs before decay begins
    teacher_forcing_floor: float = 0.3   # share of real partner frames at the end of training
    rollout_passes: int = 1           # passes that make the partner's own past: pass k sees pass k−1's predictions,
                                      # so drift compounds over k frames, as it does live
    input_noise: float = 0.03
    place_drift: float = 0.3          # metres (and 1.5× that in radians): the spread of the relation's drift
    w_place: float = 1.0
    mirror: bool = True
    swap: bool = True


def teacher_forcing(step: int, total: int, start: float, floor: float) -> float:
    """All real until `start` (a fraction of the run), then linearly down to `floor` at the end."""
    begin = int(start * total)
    return 1.0 if step < begin else schedules.teacher_forcing(step - begin, total - begin, floor)


def kl_weight(step: int, total: int, o: Options) -> float:
    return schedules.kl_weight(step, o.kl_annealing, o.kl_max, warmup=int(o.kl_warmup * total),
                               cycle=max(1, total // max(1, o.kl_cycles)))


def pair_features(lead: np.ndarray, partner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World positions (T, J, 3) of a pair → lead, partner and relation features (T, ·)."""
    return motion.encode(lead)[0], motion.encode(partner)[0], relation(lead, partner)


def drifted(partner: np.ndarray, rng: np.random.Generator, spread: float) -> np.ndarray:
    """The partner (T, J, 3) moved and turned about its own root by an offset and a drift that grows
    linearly over the window (each drawn with `spread` metres, 1.5 × `spread` radians): where a
    partner that steered by its own steps might stand instead."""
    s = np.linspace(0.0, 1.0, len(partner))[:, None]
    shift = rng.normal(0, spread, 2) + rng.normal(0, spread, 2) * s                       # (T, 2)
    turn = (rng.normal(0, 1.5 * spread) + rng.normal(0, 1.5 * spread) * s)[:, 0]          # (T,)
    moved = motion.turn_in_place(partner, turn)
    return (moved + np.stack([shift[:, 0], np.zeros(len(s)), shift[:, 1]], -1)[:, None]).astype(partner.dtype)


class PairSampler:
    """Random windows of both dancers from the chosen clips, augmented, as normalised features."""

    def __init__(self, ds: MotionDataset, clips: list[int], length: int, stats: dict, augment: bool,
                 options: Options, seed: int):
        self.length = length + 1
        self.clips = [ds.clip(c) for c in clips if ds.clip_length(c) >= self.length]
        if not self.clips:
            raise ValueError(f"no clip is {self.length} frames long; use a shorter --sequence")
        self.stats, self.augment, self.options = stats, augment, options
        weights = np.array([len(c) - self.length + 1 for c in self.clips], dtype=np.float64)
        self.weights = weights / weights.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lead, partner, relation shown, real placement), each (B, length + 1, ·) float32, normalised."""
        out = [[], [], [], []]
        for _ in range(size):
            clip = self.clips[self.rng.choice(len(self.clips), p=self.weights)]
            start = self.rng.integers(0, len(clip) - self.length + 1)
            pair = clip[start:start + self.length]
            lead, partner = pair[:, 0], pair[:, 1]
            if self.augment and self.options.swap and self.rng.random() < 0.5:
                lead, partner = partner, lead
            if self.augment and self.options.mirror and self.rng.random() < 0.5:
                lead, partner = motion.mirror(lead), motion.mirror(partner)
            features = pair_features(lead, partner)
            shown = features[2]
            if self.augment and self.options.place_drift > 0 and self.rng.random() < 0.5:
                shown = relation(lead, drifted(partner, self.rng, self.options.place_drift))
            for i, f in enumerate(features[:2] + (shown, features[2][:, :PLACEMENT])):
                out[i].append(f)
        s = self.stats
        return ((np.stack(out[0]) - s["dancer_mean"]) / s["dancer_std"],
                (np.stack(out[1]) - s["dancer_mean"]) / s["dancer_std"],
                (np.stack(out[2]) - s["relation_mean"]) / s["relation_std"],
                (np.stack(out[3]) - s["relation_mean"][:PLACEMENT]) / s["relation_std"][:PLACEMENT])


def statistics(ds: MotionDataset, clips: list[int]) -> dict[str, np.ndarray]:
    """Feature means and spreads over the training clips, both dancers pooled (they swap roles)."""
    dancers, relations = [], []
    for c in clips:
        p = ds.clip(c)
        for a, b in ((0, 1), (1, 0)):
            lead, partner, rel = pair_features(p[:, a], p[:, b])
            dancers.append(lead)
            relations.append(rel)
    d, r = np.concatenate(dancers), np.concatenate(relations)
    bones = median_bones([ds.clip(c)[0, k] for c in clips for k in (0, 1)])
    # how fast a real partner's limbs move (dancer 1's root-relative joint speed, over all frames):
    # what the live partner's energy governor holds it to
    moved = [(limb_speed(ds.clip(c)[:, 1], ds.fps), ds.clip_length(c) - 1) for c in clips]
    limbs = sum(v * n for v, n in moved) / max(1, sum(n for _, n in moved))
    floor = 1e-3
    return {"dancer_mean": d.mean(0).astype(np.float32), "dancer_std": np.maximum(d.std(0), floor).astype(np.float32),
            "relation_mean": r.mean(0).astype(np.float32), "relation_std": np.maximum(r.std(0), floor).astype(np.float32),
            "bone_lengths": bones.astype(np.float32),           # the dancers' median: what the live partner keeps
            "limb_speed": float(limbs)}


def split(lead: torch.Tensor, partner: torch.Tensor, rel: torch.Tensor, placement: torch.Tensor):
    """Windows of length + 1 → the model's aligned inputs and its targets: the partner's frame t+1
    (and where it stands then) is made from the partner and the relation up to t, and the lead up
    to t+1."""
    return lead[:, 1:], partner[:, :-1], rel[:, :-1], partner[:, 1:], placement[:, 1:]


def velocity_loss(predicted: torch.Tensor, real: torch.Tensor, lag: int) -> torch.Tensor:
    return F.mse_loss(predicted[:, lag:] - predicted[:, :-lag], real[:, lag:] - real[:, :-lag])


class Task:
    kind = "duet"
    curves = ("mse", "place", "velocity")                     # the validation losses the training curve draws

    def __init__(self, ds: MotionDataset, config: DuetConfig, options: Options, init: str = ""):
        if ds.n_performers != 2:
            raise ValueError(f"{ds.source}: the duet model trains on pairs; this dataset has "
                             f"{ds.n_performers} performer(s) per clip (try cmu-salsa)")
        config.check()
        self.ds, self.config, self.options, self.init = ds, config, options, init
        self.stats = statistics(ds, ds.split(heldout=False))
        if init:
            # fine-tuning: features normalised as the weights learnt them, not by this data's own
            # stats (the bone lengths the live partner keeps stay these dancers')
            source = checkpoint.read_meta(init)
            for part, key in (("dancer", "feature"), ("relation", "relation")):
                for stat in ("mean", "std"):
                    self.stats[f"{part}_{stat}"] = np.asarray(source[f"{key}_{stat}"], dtype=np.float32)

    def build(self) -> DuetModel:
        return DuetModel(self.config)

    def start(self, tc: TrainConfig, step: int, rank: int, device: torch.device) -> None:
        ds, o = self.ds, self.options
        self.tc, self.device = tc, device
        self.batches = PairSampler(ds, ds.split(heldout=False), o.sequence, self.stats, True, o,
                                   tc.seed * 1000 + rank + step)
        held = ds.split(heldout=True) or ds.split(heldout=False)
        self.held = PairSampler(ds, held, o.sequence, self.stats, False, o, tc.seed + 7)
        self.rng = torch.Generator().manual_seed(tc.seed + rank)

    def _tensors(self, sampler: PairSampler, size: int):
        return [torch.from_numpy(a).to(self.device) for a in sampler.batch(size)]

    def losses(self, model, step: int) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
        tc, o = self.tc, self.options
        lead, partner, rel, target, placement = split(*self._tensors(self.batches, tc.batch_size))
        plain = model.module if hasattr(model, "module") else model
        kl_w = kl_weight(step, tc.steps, o)
        if self.dancers_only():
            out = plain.reconstruct_dancers(lead, partner)
            losses = {"reconstruction": (F.mse_loss(out.reconstructions["lead"], lead)
                                         + F.mse_loss(out.reconstructions["partner"], partner)) / 2,
                      "kl": sum(kl(*v) for v in out.latents.values())}
            return losses, {"reconstruction": 1.0, "kl": kl_w}
        keep = teacher_forcing(step, tc.steps, o.teacher_forcing_start, o.teacher_forcing_floor)
        if keep < 1.0:
            # the partner's own predictions stand in for part of its past
            real = (torch.rand(partner.shape[:2], generator=self.rng) < keep).to(partner.device).unsqueeze(-1)
            mixed = partner
            with torch.no_grad():
                for _ in range(max(1, o.rollout_passes)):
                    own = plain(lead, mixed, rel, reconstruct=False).next
                    mixed = torch.where(real, partner, torch.cat([partner[:, :1], own[:, :-1]], dim=1))
            partner = mixed
        noisy = [x + o.input_noise * torch.randn(x.shape, generator=self.rng).to(x.device) for x in (lead, partner, rel)]
        out = model(*noisy)
        inputs = {"lead": lead, "partner": partner, "relation": rel}
        losses = {"mse": F.mse_loss(out.next, target),
                  "place": F.mse_loss(out.placement, placement),
                  "velocity": velocity_loss(out.next, target, o.velocity_lag),
                  "reconstruction": sum(F.mse_loss(out.reconstructions[k], inputs[k]) for k in inputs) / 3,
                  "kl": sum(kl(*v) for v in out.latents.values())}
        return losses, {"mse": 1.0, "place": o.w_place, "velocity": o.w_velocity, "reconstruction": o.w_reconstruction, "kl": kl_w}

    def dancers_only(self) -> bool:
        """Whether this step trains only the single-dancer VAEs: with probability p_dancers, uniformly
        drawn (the seed compared a normal draw with p, which took the branch 54 % of the time at 0.1)."""
        return torch.rand((), generator=self.rng).item() < self.options.p_dancers

    @torch.no_grad()
    def validate(self, model: DuetModel, batches: int = 8, batch_size: int = 32) -> dict[str, float]:
        """On held-out takes: next-frame and placement error, beside a partner that holds its last
        frame and its place."""
        totals = {"mse": 0.0, "mse_hold": 0.0, "place": 0.0, "place_hold": 0.0, "velocity": 0.0}
        for _ in range(batches):
            lead, partner, rel, target, placement = split(*self._tensors(self.held, batch_size))
            out = model(lead, partner, rel, noise=0.0, reconstruct=False)
            totals["mse"] += float(F.mse_loss(out.next, target)) / batches
            totals["mse_hold"] += float(F.mse_loss(partner, target)) / batches
            totals["place"] += float(F.mse_loss(out.placement, placement)) / batches
            totals["place_hold"] += float(F.mse_loss(rel[..., :PLACEMENT], placement)) / batches
            totals["velocity"] += float(velocity_loss(out.next, target, self.options.velocity_lag)) / batches
        return totals

    def meta(self) -> dict:
        s = self.stats
        return {"labels": self.ds.label_names, "fps": self.ds.fps,
                "feature_mean": s["dancer_mean"].tolist(), "feature_std": s["dancer_std"].tolist(),
                "relation_mean": s["relation_mean"].tolist(), "relation_std": s["relation_std"].tolist(),
                "bone_lengths": s["bone_lengths"].tolist(), "limb_speed": s["limb_speed"]}
