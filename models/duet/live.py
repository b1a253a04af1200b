"""Running the duet live: a partner for every pair's lead (models.live.Live).

The lead is a tracked human (`partner` mode: `/pose`, cleaned by `lead.TrackedLead`) or, in `duet`
mode and whenever the human is gone, the solo model dancing with its emotion. The partner is the
duet network's, made one frame at a time from its incremental state, and placed in the same world
frame as the lead: it sees where the lead is and how they move (the relation), never what they
will do next. Every frame streams both: the lead as the partner saw it, then the partner.

Pure tensor work; the daemon's frame clock and the `generate`/`eval` commands both drive it.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import motion
from ..body import LEGS, fit_bones, joint_bones, plant
from ..live import Condition
from ..sampling import SamplingParams
from ..solo.live import SoloLive
from .cpu import CpuDuet
from .lead import LeadConfig, TrackedLead
from .model import PLACEMENT, DuetModel, place, relation

CLAMP_STD = 4.0          # generated features stay within this many training stds of the mean
REACH = 1.5              # metres between the hips beyond which a partner is pulled back towards its lead
CLOSE = 0.3              # ... and within which it is pushed away (two bodies cannot stand in one place)
PULL = 0.05              # metres a frame the pull moves it at most (1.5 m/s)
ANCHOR = 0.3             # share of the way a frame moves the partner to where its placement says it stands
PLACE_SMOOTHING = 0.5    # per frame: the place the anchor pulls to is smoothed (its jitter is not the pair's)
TURN = 0.1               # radians a frame the placement turns it at most (3 rad/s)
NOISE_AT = SamplingParams().variance   # the variance knob's default: the latents' own spread
ENERGY_SMOOTHING = 0.97  # per frame: the limbs' measured speed is an average over about the last second
ENERGY_RATE = 0.02       # per frame: how fast the energy governor corrects (about 2 s to settle)
ENERGY_LIMIT = 1.1       # its gain on the limbs' frame-to-frame motion stays within e^±1.1 (1/3 to 3)


def noise_scale(variance: float) -> float:
    """The variance knob → the partner's latent noise: 1 (as trained) at the default, less as the
    divisor grows (a steadier partner), more below it (a freer one)."""
    return float(np.sqrt(NOISE_AT / variance))


class Partner:
    """The duet network's partner for a batch of pairs, a frame at a time: given where each lead is
    now, where its partner is next. What `DuetLive` runs live and `generate`/`eval` run offline."""

    def __init__(self, model: DuetModel, meta: dict, pairs: int = 1, seed: int = 0):
        self.model = model.eval()
        self.device = next(model.parameters()).device
        # on a CPU the network steps in NumPy, the same numbers at a fraction of the cost (models.duet.cpu)
        self.net = CpuDuet(model) if self.device.type == "cpu" else model
        self.pairs = pairs
        self.mean = np.asarray(meta["feature_mean"], dtype=np.float32)
        self.std = np.asarray(meta["feature_std"], dtype=np.float32)
        self.rel_mean = np.asarray(meta["relation_mean"], dtype=np.float32)
        self.rel_std = np.asarray(meta["relation_std"], dtype=np.float32)
        still = self.mean.copy()
        still[1:motion.ROOT_FEATURES] = 0.0
        self.still = still                                 # the mean pose, not moving
        self.rest = motion.decode(still[None])[0]          # ... at the origin, facing +Z
        self.bones = np.asarray(meta["bone_lengths"]) if "bone_lengths" in meta else joint_bones(self.rest)
        self.fps = float(meta.get("fps", 30.0))
        # how fast a real follower's limbs move (root-relative joint speed, m/s), which the energy
        # governor holds the partner to; a checkpoint without it is served ungoverned
        self.limb_speed = meta.get("limb_speed")
        self.standing = self.rest[LEGS[:, 2:], 1]    # the ankles' and toes' heights when standing
        self.generator = torch.Generator().manual_seed(seed)
        self.reset()

    def reset(self) -> None:
        self.state = self.net.start(self.pairs)
        self.trajectory: motion.Trajectory | None = None
        self.last_lead: np.ndarray | None = None
        self.last: np.ndarray | None = None                # the partners' last poses (P, J, 3)
        self.lead_yaw: np.ndarray | None = None            # the last lead's heading
        self._yaw: np.ndarray | None = None                # the partners' (taken when first needed)
        self.scale: torch.Tensor | float = 1.0             # the latents' noise, as last asked
        self.frames = 0
        self.held = np.zeros(self.pairs, dtype=np.int64)   # frames the reach guard moved each pair
        self.want: np.ndarray | None = None                # where the placements put the partners (P, 3)
        self.served = np.repeat(self.mean[None], self.pairs, axis=0)    # the partners' last frames (at first the mean)
        self.drive = np.zeros(self.pairs)                  # the energy governor's log gain
        self.energy = np.full(self.pairs, np.nan)          # the limbs' measured speed (m/s), smoothed

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=self.device)[:, None]

    def _begin(self, lead: np.ndarray) -> None:
        """The first frame: each partner stands as pairs usually do (the training data's mean relation)."""
        placed = np.stack(place(self.rel_mean, lead), axis=-1)
        self.trajectory = motion.Trajectory(len(lead))
        self.trajectory.x, self.trajectory.z, self.trajectory.yaw = placed[:, 0], placed[:, 1], placed[:, 2]
        self.last_lead = lead
        self.last = self.trajectory.advance(np.repeat(self.still[None], len(lead), axis=0))
        self.lead_yaw = motion.heading(lead)

    @property
    def yaw(self) -> np.ndarray:
        """The partners' headings now."""
        if self._yaw is None:
            self._yaw = motion.heading(self.last)
        return self._yaw

    @torch.inference_mode()
    def settle(self) -> None:
        """What the next frame needs of the partners' own past, made once this frame has gone out
        (DuetModel.prepare): their frames and their relation to their leads through the VAEs, and the
        decoder's first attention over the partner itself. Only what the lead's next pose changes is
        left for `step`. (The noise is the one last asked for: a new variance reaches the partner's
        own latents a frame later than its lead's.)"""
        if self.trajectory is None or self.state.prepared is not None:
            return
        rel = (relation(self.last_lead, self.last, (self.lead_yaw, self.yaw)) - self.rel_mean) / self.rel_std
        frame = self._tensor((self.served - self.mean) / self.std)          # what goes back in, normalised
        self.net.prepare(frame, self._tensor(rel), self.state, self.scale, self.generator)

    def slide(self, by: np.ndarray) -> None:
        """Move every partner across the floor by (P, 2) metres (x, z), as it is."""
        if self.trajectory is not None and by.any():
            self.last = self.last + self._shift(by)
            if self.want is not None:                      # and the place it is drawn to, with it
                self.want[:, :2] += by

    def _shift(self, by: np.ndarray) -> np.ndarray:
        """Move the partners' trajectories by (P, 2) metres (x, z); the same move for their poses, (P, 1, 3)."""
        self.trajectory.x += by[:, 0]
        self.trajectory.z += by[:, 1]
        return np.stack([by[:, 0], np.zeros(len(by)), by[:, 1]], -1)[:, None].astype(np.float32)

    @torch.inference_mode()
    def step(self, lead: np.ndarray, noise: np.ndarray | float = 1.0, real: np.ndarray | None = None) -> np.ndarray:
        """Every lead's pose now (P, J, 3) → every partner's (P, J, 3). `noise` scales the latents'
        spread (per pair, or one for all). With `real` (P, J, 3), the partner is shown the real
        follower's frame instead of making one (its model state still advances): a rollout that
        starts from real history."""
        if self.trajectory is None:
            self._begin(lead)
        self.scale = self._tensor(np.full((len(lead), 1), noise, dtype=np.float32) if np.ndim(noise) == 0
                                  else np.asarray(noise, dtype=np.float32).reshape(-1, 1))
        self.settle()                              # if the frame before has not
        # each body's heading is taken once, and kept for the next frame
        lead_yaw = motion.heading(lead)
        lead_f = (motion.step_features(self.last_lead, lead, (self.lead_yaw, lead_yaw)) - self.mean) / self.std
        nxt, placement = self.net.step(self._tensor(lead_f), None, None, self.state, self.scale, self.generator)
        nxt = nxt[:, 0]
        if real is not None:
            world = real.astype(np.float32)
            t = self.trajectory
            t.x, t.z, t.yaw = world[:, 0, 0].astype(np.float64), world[:, 0, 2].astype(np.float64), \
                motion.heading(world).astype(np.float64)
            self.served = motion.step_features(self.last, world, (self.yaw, t.yaw))
        else:
            # Run on its own output the network drifts (it is trained mostly on real pasts), and a
            # drift it feeds on grows: limbs stretch or go still, the feet slide, the partner wanders
            # off. So what it makes is kept in range, its limbs at the body's lengths and moving with
            # a real follower's energy (what goes back in is the corrected frame), it is drawn
            # towards the place it predicts for itself beside its lead, the pair is kept within
            # reach, and its planted feet stay put. `eval duet` measures the partner as served.
            f = nxt.clamp_(-CLAMP_STD, CLAMP_STD).cpu().numpy() * self.std + self.mean
            R, was = motion.ROOT_FEATURES, self.served[:, motion.ROOT_FEATURES:]
            if self.limb_speed is not None:
                f[:, R:] = was + np.exp(self.drive)[:, None] * (f[:, R:] - was)
            f[:, R:] = fit_bones(f[:, R:].reshape(len(f), -1, 3), self.bones).reshape(len(f), -1)
            if self.limb_speed is not None:
                self._govern(f[:, R:] - was)
            self.served = f
            world = self.trajectory.advance(f)
            placement = placement[:, 0].cpu().numpy() * self.rel_std[:PLACEMENT] + self.rel_mean[:PLACEMENT]
            world = self._within_reach(lead, self._anchor(lead, lead_yaw, world, placement))
            # last: whatever moved the body, a foot on the ground stays where it was
            world = plant(world, self.last, self.standing, self.bones)
        self.frames += 1
        self.last_lead, self.last, self.lead_yaw, self._yaw = lead, world, lead_yaw, None
        return world

    def _govern(self, moved: np.ndarray) -> None:
        """The energy governor, fed each frame's root-relative motion of the limbs (P, 3J). Trained
        with a mean-squared error on four minutes of salsa, the network averages: run on its own
        output its limbs move at a fifth to nine tenths of a real follower's, wandering from minute
        to minute. As a cruise control would, the gain on the limbs' frame-to-frame motion follows
        the log-ratio of the real follower's speed to the measured one."""
        speed = np.sqrt((moved.reshape(len(moved), -1, 3) ** 2).sum(-1)).mean(-1) * self.fps
        self.energy = np.where(np.isnan(self.energy), speed,
                               ENERGY_SMOOTHING * self.energy + (1 - ENERGY_SMOOTHING) * speed)
        step = ENERGY_RATE * np.log(self.limb_speed / np.maximum(self.energy, 1e-3))
        self.drive = np.clip(self.drive + step, -ENERGY_LIMIT, ENERGY_LIMIT)

    def _anchor(self, lead: np.ndarray, lead_yaw: np.ndarray, partner: np.ndarray, placement: np.ndarray
                ) -> np.ndarray:
        """Partners (P, J, 3) moved ANCHOR of the way (at most PULL, and TURN) to where their predicted
        placements (P, PLACEMENT) put them beside their leads: the network's two answers to "where
        next", its steps and its place, blended, the steps for the motion and the place for the
        pair (steps alone wander off; a place alone would slide the feet)."""
        want = np.stack(place(placement, lead, lead_yaw), axis=-1)                       # (P, 3): x, z, yaw
        if self.want is not None:
            # the place as it has been said over the last frames, not as this frame's guess jitters
            was = self.want
            want = np.concatenate([was[:, :2] + (1 - PLACE_SMOOTHING) * (want[:, :2] - was[:, :2]),
                                   (was[:, 2] + (1 - PLACE_SMOOTHING) * motion.wrap_angle(want[:, 2] - was[:, 2]))[:, None]], 1)
        self.want = want
        t = self.trajectory
        turn = np.clip(ANCHOR * motion.wrap_angle(want[:, 2] - t.yaw), -TURN, TURN)
        partner = motion.turn_in_place(partner, turn)
        t.yaw = motion.wrap_angle(t.yaw + turn)
        move = ANCHOR * (want[:, :2] - partner[:, 0, [0, 2]])
        move *= np.minimum(1.0, PULL / np.maximum(np.linalg.norm(move, axis=-1), 1e-9))[:, None]
        return partner + self._shift(move)

    def _within_reach(self, lead: np.ndarray, partner: np.ndarray) -> np.ndarray:
        """Partners further than REACH from their lead (or nearer than CLOSE) moved back, at most PULL."""
        gap = (partner[:, 0] - lead[:, 0])[:, [0, 2]]
        d = np.linalg.norm(gap, axis=-1)
        move = np.clip(np.where(d > REACH, REACH - d, np.where(d < CLOSE, CLOSE - d, 0.0)), -PULL, PULL)
        if not move.any():
            return partner
        self.held += move != 0
        return partner + self._shift(gap / np.maximum(d, 1e-6)[:, None] * move[:, None])


class DuetLive:
    modes = ("partner", "duet")
    roles = ("lead", "partner")

    def __init__(self, model: DuetModel, meta: dict, soloist: SoloLive, lead: LeadConfig = LeadConfig(),
                 seed: int = 0):
        self.soloist = soloist
        self.labels, self.performers, self.fps = soloist.labels, soloist.performers, soloist.fps
        self.actions = soloist.actions             # what the generated lead is asked to do
        self.unsupported = soloist.unsupported     # the emotion and its guidance shape the generated lead
        self.partner = Partner(model, meta, soloist.performers, seed)
        self.lead_config = lead
        self.mode = self.modes[0]
        self.reset()

    @property
    def recognised(self) -> np.ndarray:
        return self.soloist.recognised

    def seed(self, seed: int) -> None:
        self.partner.generator.manual_seed(seed)
        self.soloist.seed(seed)

    def reset(self) -> None:
        """Every pair back to the start: the soloist at the centre, the partner placed as pairs
        usually stand, both with an empty memory."""
        self.soloist.reset()
        self.partner.reset()
        self.leads = [TrackedLead(self.lead_config, self.partner.rest, self.fps) for _ in range(self.performers)]
        self.sources = ["generated"] * self.performers
        self.solo_ran = False

    def status(self) -> dict:
        """The soloist's pace, who leads each pair, and the partners' limbs (their energy governor)."""
        lead = ["dancer" if s == "tracked" else "soloist (waiting for a dancer)" if self.mode == "partner"
                else "soloist" for s in self.sources]
        p = self.partner
        return {**self.soloist.status(), "lead": lead,
                "partner_limbs": [round(float(x), 3) for x in np.nan_to_num(p.energy)],
                "partner_gain": [round(float(x), 3) for x in np.exp(p.drive)]}

    def step(self, condition: Condition) -> np.ndarray:
        """The next frame of every pair: (2P, J, 3), each pair's lead then its partner."""
        self.mode = condition.mode
        P = self.performers
        humans: list[np.ndarray | None] = [None] * P
        if condition.mode == "partner":
            cutoff, beta = condition.extra["pose_cutoff"], condition.extra["pose_beta"]    # bridge.params
            for p in range(P):
                tracked = condition.poses[p] if p < len(condition.poses) else None
                humans[p] = self.leads[p].tracked(None if tracked is None else tracked.points,
                                                  tracked is not None and tracked.image, cutoff, beta)
        sources = ["tracked" if h is not None else "generated" for h in humans]
        self.solo_ran = "generated" in sources
        if self.solo_ran:
            for p in range(P):
                if sources[p] == "generated" and self.sources[p] == "tracked":
                    self._hand_over(p)
            solo = self.soloist.step(condition)
        lead = np.stack([self.leads[p].show(humans[p] if humans[p] is not None else solo[p], sources[p])
                         for p in range(P)])
        self.sources = sources
        # while a lead glides to a new body (a human arriving far from where the soloist was), its
        # partner glides with it: the pair keeps its relation instead of the partner being left behind
        self.partner.slide(np.array([lead.slide for lead in self.leads]))
        partner = self.partner.step(lead, np.array([noise_scale(p.variance) for p in condition.params]))
        out = np.empty((2 * P,) + lead.shape[1:], dtype=np.float32)
        out[0::2], out[1::2] = lead, partner
        return out

    def _hand_over(self, p: int) -> None:
        """The human of pair p has gone: the soloist takes over where they stood, facing their way
        (what is left, the pose, the lead's easing blends)."""
        was = self.leads[p].shown
        t = self.soloist.trajectory
        t.x[p], t.z[p], t.yaw[p] = was[0, 0], was[0, 2], float(motion.heading(was[None])[0])

    def settle(self) -> None:
        """What this frame leaves for the next: the soloist's bookkeeping, and the partners' own past
        through the network (Partner.settle)."""
        self.soloist.settle()
        self.partner.settle()

    def rehearse(self) -> None:
        if self.solo_ran:
            self.soloist.rehearse()
