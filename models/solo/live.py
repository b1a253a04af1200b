"""Running the solo model live: one frame per call for a batch of performers (models.live.Live).

Holds what a show needs between frames: the key/value cache, each performer's recent frames
(for the emotion sampler and the recognised emotion) and trajectory. Pure tensor work; the
daemon's frame clock and the `generate` command both drive it.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import motion, skeleton
from ..body import LEGS, fit_bones, plant
from ..live import Condition
from ..sampling import SamplingParams, sample, skeleton_noise, wander
from .cpu import CpuStep
from .model import PACE_FLOOR, KVCache, SoloModel, SoloOutput

SCORE_WINDOW = 8        # frames the emotion sampler scores a candidate with (recent + candidate)
RECOGNISE_WINDOW = 60   # frames behind the recognised emotion that is reported (2 s)
NOISE_CORRELATION = 0.95  # frame-to-frame correlation of sampling noise: slow sway, not jitter
LIMB_CORRELATION = 0.9  # correlation of a joint's sampling noise with its parent's: limbs keep their length
CLAMP_STD = 8.0         # generated features stay within this many training stds of the mean
PACE_SMOOTHING = 0.97   # per frame: the measured pace is an average over about the last second
PACE_RATE = 0.02        # per frame: how fast the pace governor's integral corrects (about 2 s to settle)
PACE_GAIN = 0.5         # and its proportional part: a body falling still is asked for more at once.
                        # On the integral alone it stood still for a second at a time (proud 2 % of
                        # its seconds) and overshot once it had wound up (proud's limbs 1.1 x real)
PACE_DRIVE_LIMIT = 1.0  # the governor asks for at most e ≈ 2.7 times the target pace (or 1/e):
                        # further out of what it was trained on, the model loses the body's form
TRAVEL_SMOOTHING = 0.97  # per frame: the travel the cap measures is an average over about a second,
                        # so the cap slows a body that keeps travelling too fast, not a stride's peak
SMOOTHING = 0.2         # the served body keeps this much of the last frame's (a 20-ms time constant):
                        # sampled frames tremble frame to frame, the arms most (eval solo: sad's and
                        # proud's wrists 1.9-2.8x the real jerk); this takes a tenth to a fifth away


class SoloLive:
    modes = ("solo",)
    roles = ("dancer",)

    def __init__(self, model: SoloModel, meta: dict, performers: int = 1, seed: int = 0, stage: float = 0.0):
        self.model = model.eval()
        self.head = model.emotion_head
        self.device = next(model.parameters()).device
        # on a CPU the model steps in NumPy, about twice as fast at one frame (see models.solo.cpu)
        self.stepper = CpuStep(model) if self.device.type == "cpu" else model
        self.labels: list[str] = list(meta["labels"])
        self.actions: list[str] = list(meta.get("actions", []))
        self._action_index = {a: i for i, a in enumerate(self.actions)}
        self.fps = float(meta.get("fps", 30.0))
        self.mean = np.asarray(meta["feature_mean"], dtype=np.float32)
        self.std = np.asarray(meta["feature_std"], dtype=np.float32)
        # each label's typical pace (m/s): an emotion asks the model for its mix of these
        self.paces = np.array([meta["pace"][name] for name in self.labels])
        # ... and its limbs' (root-relative joint speed), which the governor steers by where the
        # checkpoint has it: root travel alone can meet a world pace while the limbs barely move.
        # A model conditioned on the limbs' pace has them as its pace; older ones, apart or not at all
        limbs = meta["pace"] if meta.get("pace_of") == "limbs" else meta.get("limb_pace")
        self.limb_paces = None if limbs is None else np.array([limbs[name] for name in self.labels])
        # each label's pace doing each action (A, L), where the training clips show it (NaN where
        # they do not: the label's own pace stands in). Asked to bow, a body is steered to a bow's
        # pace, not to its emotion's, which is mostly walks'. Only models conditioned on the limbs'
        # pace have them, so they are the limbs' paces too
        by_label = meta.get("action_pace", {})
        self.action_paces = np.array([[by_label.get(name, {}).get(a, np.nan) for name in self.labels]
                                      for a in self.actions]).reshape(len(self.actions), len(self.labels))
        # how fast each label's root travels (m/s), where the checkpoint has it: the served
        # body travels no faster (see _cap_travel)
        travel = meta.get("travel_pace")
        self.travel_paces = None if travel is None else np.array([travel[name] for name in self.labels])
        # the dancers' bone lengths (indexed by joint), where the checkpoint has them: the body is
        # held to them and its planted feet stay put (models.body)
        self.bones = np.asarray(meta["bone_lengths"]) if "bone_lengths" in meta else None
        self.standing = motion.decode(self.mean[None])[0][LEGS[:, 2:], 1]    # the mean pose's feet
        joints = torch.as_tensor(self.std[motion.ROOT_FEATURES:], dtype=torch.float32)
        self.joint_std = joints.to(self.device)
        self.performers = performers
        self.stage = stage               # metres; see motion.Trajectory
        # trained with the emotion sometimes withheld (train solo --drop-emotion), the model also
        # knows motion with no emotion asked: classifier-free guidance, see `_run`
        self.guided = bool(meta.get("guidance", False))
        self.unsupported = {} if self.guided else {
            "intensity": "this model was trained without guidance (train solo --drop-emotion)"}
        self.generator = torch.Generator().manual_seed(seed)
        self.limbs = skeleton_noise(skeleton.PARENTS, LIMB_CORRELATION, motion.ROOT_FEATURES).to(self.device)
        self.reset()

    @torch.inference_mode()
    def reset(self) -> None:
        """Every performer back to the mean pose at the origin, with an empty memory."""
        B, Fd = self.performers, self.model.config.n_features
        self.cache = self.model.new_cache()
        self.prev = torch.zeros(B, Fd, device=self.device)           # normalised: the mean frame
        self.component = torch.zeros(B, dtype=torch.long, device=self.device)
        # the emotion head's embedding of each recent frame (with its velocity), so that scoring
        # a candidate or recognising the last two seconds embeds one new frame, not a window
        still = self.head.embed_frames(self.prev, self.prev)
        self.embedded = still[:, None].repeat(1, RECOGNISE_WINDOW - 1, 1)
        self.trajectory = motion.Trajectory(B, stage=self.stage)
        self.noise = torch.randn(B, Fd, generator=self.generator).to(self.device)
        self.recognised = np.full((B, len(self.labels)), 1.0 / len(self.labels), dtype=np.float32)
        self._owed: tuple | None = None      # see settle
        self._scratch: KVCache | None = None  # see rehearse
        self._reset_pace()

    def _reset_pace(self) -> None:
        # The pace governor. On its own the model undershoots the pace it is asked for: each
        # sampled frame moves a little less than a real one, and a slower past makes a slower
        # future. So the pace measured in the output is fed back, as a cruise control would:
        # the pace asked of the model is the target times e^drive, and drive is the log-ratio of
        # target to measured pace, integrated (`integral`) plus PACE_GAIN of it as it is now.
        self.integral = np.zeros(self.performers)
        self.drive = np.zeros(self.performers)
        self.target = np.zeros(self.performers)      # m/s, what the emotion and energy ask for
        self.measured: np.ndarray | None = None      # m/s, smoothed
        self.last_pose: np.ndarray | None = None     # as served: the planted feet and the speed start from it
        self.smoothed: np.ndarray | None = None      # the last served frame's features (see _smooth)
        self.travel: np.ndarray | None = None        # m/s, the model's own travel, smoothed (see _cap_travel)

    def seed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def status(self) -> dict:
        """The pace governor, performer by performer: what was asked (m/s) and what it makes."""
        measured = self.measured if self.measured is not None else np.zeros(self.performers)
        return {"pace_target": [round(float(x), 3) for x in self.target],
                "pace_measured": [round(float(x), 3) for x in measured]}

    @torch.inference_mode()
    def warm_up(self, frames: np.ndarray, emotion: np.ndarray) -> None:
        """Continue from real motion: normalised frames (T, F), shown to every performer."""
        self.settle()
        x = torch.as_tensor(frames, dtype=torch.float32, device=self.device)
        B = self.performers
        e = torch.as_tensor(np.asarray(emotion, dtype=np.float32), device=self.device).expand(B, -1)
        pace = torch.as_tensor(self._target_pace(emotion, 1.0, self.paces), dtype=torch.float32, device=self.device)
        pace = pace.expand(B)
        for t in range(len(x) - 1):
            self._run(x[t].expand(B, -1), e, pace, self.cache)
        self.prev = x[-1].expand(B, -1).clone()
        self._reset_pace()
        # the governor follows the context as if it had served it, so a body continuing from a
        # clip that ends standing still is asked for more from its first frame (measured from its
        # first frame on, it stood still for a second or two: eval solo, sad, proud, not-confident)
        if self.limb_paces is not None:
            goal = self._target_pace(emotion, 1.0, self.limb_paces)
            for speed in self._limb_speed(x[1:], x[:-1]):
                self._govern(np.full(B, speed), goal)
        if self.travel_paces is not None:
            for speed in _travel_speed(x[1:].cpu().numpy() * self.std + self.mean, self.fps):
                self.travel = _average(self.travel, np.full(B, speed), TRAVEL_SMOOTHING)
        n = min(len(x) - 1, RECOGNISE_WINDOW - 1)
        if n > 0:
            self.embedded[:, -n:] = self.head.embed_frames(x[-n:], x[-n - 1:-1])

    @torch.inference_mode()
    def step(self, condition: Condition) -> np.ndarray:
        """The emotion (B, L) weights and sampling parameters → world positions (B, J, 3) of every
        performer's next frame. A solo dancer ignores any tracked pose.

        Only what the frame itself needs happens here; the bookkeeping it leaves for the next one
        waits for `settle`, so a live caller can send the frame first."""
        self.settle()
        emotion, params = condition.emotion, condition.params
        e = torch.as_tensor(np.asarray(emotion, dtype=np.float32), device=self.device)
        e = e / e.sum(-1, keepdim=True).clamp_min(1e-6)
        energy = np.array([p.energy for p in params])
        actions = self._action_indices(condition.actions)
        target = self._target_pace(emotion, energy, self._paces(actions))
        asked = torch.as_tensor(target * np.exp(self.drive), dtype=torch.float32, device=self.device)
        out = self._run(self.prev, e, asked, self.cache, [p.intensity for p in params], self._actions(actions))
        self.noise = wander(self.noise, NOISE_CORRELATION, self.generator)
        noise = self.noise @ self.limbs
        nxt, component = torch.empty_like(self.prev), torch.empty_like(self.component)
        for rows, p in _groups(params, self.device):
            score = self._emotion_scores(out.mu[rows], e[rows], rows) if p.sampler == "emotion" else None
            nxt[rows], component[rows] = sample(out.pi_logits[rows], out.mu[rows], out.sigma[rows], self.prev[rows],
                                                p, self.generator, score, noise[rows], self.component[rows])
        # a sample far outside anything seen in training would feed on itself; keep it in range
        nxt = nxt.clamp_(-CLAMP_STD, CLAMP_STD)
        f = nxt.cpu().numpy() * self.std + self.mean
        if self.bones is not None:
            nxt = self._hold_bones(f)
        self._cap_travel(f, emotion, energy)
        world = self.trajectory.advance(self._smooth(f))
        before = self.last_pose
        if self.bones is not None and before is not None:
            world = plant(world, before, self.standing, self.bones)
        self.last_pose = world
        apart = self.limb_paces is not None and not self.action_paces.size   # older checkpoints: limbs' paces apart
        goal = self._target_pace(emotion, energy, self.limb_paces) if apart else target
        self._owed = (nxt, self.prev, world, goal, before)
        self.prev, self.component = nxt, component
        return world

    def _smooth(self, f: np.ndarray) -> np.ndarray:
        """Denormalised frames (B, F) moved SMOOTHING of the way back to the last served frame's (a
        one-pole low-pass), their bones set to length again. Only what is served: the model is fed
        its own frames. On features, not world positions: the root's are its height and its
        travel and turn this frame, so a body moved elsewhere (a soloist taking over where a
        dancer stood) is not dragged from its old place. Before the feet are planted, so a planted
        foot stays exactly where it was."""
        if self.smoothed is not None:
            f = f + SMOOTHING * (self.smoothed - f)
            if self.bones is not None:
                self._fit_bones(f)
        self.smoothed = f.copy()
        return f

    def _cap_travel(self, f: np.ndarray, emotion: np.ndarray, energy: np.ndarray) -> None:
        """Denormalised frames (B, F), about to be served, their travel slowed (in place) where the
        model has been travelling faster than the emotion's real pace (times the energy). Feet
        that do not step slide after a root that travels faster than real: sad's and
        not-confident's travelled at 1.3 x the real pace, and their feet slid at 1.6-1.7 x real
        (2026-12-05). Only slowed, never hurried: a body the model keeps in place is not pushed
        about, and a glide sped up slides the more. Only what is served: the model is fed its own
        travel, and the cap follows that."""
        if self.travel_paces is None:
            return
        self.travel = _average(self.travel, _travel_speed(f, self.fps), TRAVEL_SMOOTHING)
        goal = self._target_pace(emotion, energy, self.travel_paces)
        f[:, 1:3] *= np.minimum(1.0, goal / np.maximum(self.travel, 1e-6))[:, None]

    def _hold_bones(self, f: np.ndarray) -> torch.Tensor:
        """The sampled frames (B, F), denormalised, with every bone set to its length (in place);
        and the same normalised, which is what goes back into the model: its frame, bones held."""
        self._fit_bones(f)
        return torch.as_tensor((f - self.mean) / self.std, dtype=torch.float32, device=self.device)

    def _fit_bones(self, f: np.ndarray) -> None:
        """Denormalised frames (B, F) with every bone set to its length, in place."""
        R = motion.ROOT_FEATURES
        f[:, R:] = fit_bones(f[:, R:].reshape(len(f), -1, 3), self.bones).reshape(len(f), -1)

    @torch.inference_mode()
    def settle(self) -> None:
        """What the last frame leaves for the next one: its emotion-head embedding (which the
        sampler scores candidates against), the recognised emotion, and the pace governor's
        update. `step` settles first if this is still owed; the daemon calls it once a frame has
        gone out, so none of it lies between a change and the frame that shows it."""
        if self._owed is None:
            return
        nxt, prev, world, goal, before = self._owed
        self._owed = None
        self.embedded = torch.cat([self.embedded[:, 1:], self.head.embed_frames(nxt, prev)[:, None]], dim=1)
        self.recognised = torch.softmax(self.head.pool(self.embedded), -1).cpu().numpy()
        self._govern(self._speed(nxt, prev, world, before), goal)

    @torch.inference_mode()
    def rehearse(self) -> None:
        """A model step on a scratch cache, thrown away: it changes nothing. Between frames a live
        machine runs other work and the model's weights and code drop out of the CPU's caches;
        a step that finds them there was 15-20 % faster with the torch step, and is 2-3 % faster
        with the NumPy one (`bench serve`, daemon step p50 with and without rehearsing). The
        daemon rehearses just before it starts a frame, so the step that a change waits for runs
        warm. Not on a GPU: there its kernels would only queue ahead of the real step's."""
        if self.cache.k is None or self.device.type != "cpu":
            return
        if self._scratch is None or self._scratch.k.shape != self.cache.k.shape:
            full = self.model.config.context       # attend over a full window, as a live step does
            # zeros shaped as the live cache, torch's or the NumPy step's
            self._scratch = KVCache(self.cache.k * 0, self.cache.v * 0, seen=full)
        B, L = self.prev.shape[0], len(self.labels)
        self._run(self.prev, self.prev.new_full((B, L), 1.0 / L), self.prev.new_ones(B), self._scratch)
        self._scratch.seen -= 1                    # the same slot next time: the scratch never grows

    def _action_indices(self, names: list[str | None]) -> np.ndarray | None:
        """Each performer's action asked, as an index into the model's actions (B,), -1 for none;
        None when no one asks for one (or the model takes no actions). A name the model does not
        know asks for none: the protocol refuses such names before they get here."""
        if not self.actions or not any(names):
            return None
        asked = np.full(self.performers, -1)
        for p, name in enumerate(names[:self.performers]):        # a shorter list: the rest ask for none
            asked[p] = self._action_index.get(name, -1)
        return asked

    def _actions(self, indices: np.ndarray | None) -> torch.Tensor | None:
        """One-hot rows (B, A) of the actions asked; None when none is asked of anyone."""
        if indices is None:
            return None
        rows = torch.zeros(self.performers, len(self.actions), device=self.device)
        asked = np.flatnonzero(indices >= 0)
        rows[asked, indices[asked]] = 1.0
        return rows

    def _paces(self, indices: np.ndarray | None) -> np.ndarray:
        """Each performer's pace for every label, m/s (B, L): the label's pace doing the action the
        performer is asked for, where the checkpoint knows it, else the label's own. While no
        action is asked, the labels' paces (L,), shared by every performer: no copy a frame."""
        if indices is None:
            return self.paces
        out = np.repeat(self.paces[None], self.performers, axis=0)
        for p in np.flatnonzero(indices >= 0):
            row = self.action_paces[indices[p]]
            out[p] = np.where(np.isnan(row), self.paces, row)
        return out

    def _run(self, x: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor, cache: KVCache,
             intensity: list[float] | None = None, action: torch.Tensor | None = None) -> SoloOutput:
        """The model's next-frame mixture for every performer. A guided model steps each
        performer twice in one batch, with its emotion and with none (each pass keeps its own rows
        of the cache), and the intensity s moves the mixture from the pass without towards the
        pass with, and beyond: 0 ignores the emotion, 1 is the pass with it, exactly (torch.lerp
        returns its end at weight 1), 2 doubles what the emotion changes. Sigma stays the
        conditional pass's: guidance says where the body goes, not how freely. Both passes are
        asked for the same action: guidance steers by the emotion alone."""
        if not self.guided:
            return self.stepper.step(x, emotion, pace, cache, action)
        B = x.shape[0]
        both = self.stepper.step(torch.cat([x, x]), torch.cat([emotion, torch.zeros_like(emotion)]),
                                 torch.cat([pace, pace]), cache, None if action is None else torch.cat([action, action]))
        if intensity is None:
            return both
        s = torch.as_tensor(intensity, dtype=torch.float32, device=self.device)[:, None]
        return SoloOutput(torch.lerp(both.pi_logits[B:], both.pi_logits[:B], s),
                          torch.lerp(both.mu[B:], both.mu[:B], s[..., None]), both.sigma[:B])

    @staticmethod
    def _target_pace(emotion: np.ndarray, energy, paces: np.ndarray) -> np.ndarray:
        """The pace (m/s) each performer should move at: the emotion's mix of label paces, (L,) or
        each performer's (B, L)."""
        w = np.asarray(emotion, dtype=np.float64)
        return (w * paces).sum(-1) / np.maximum(w.sum(-1), 1e-6) * energy

    def _speed(self, nxt: torch.Tensor, prev: torch.Tensor, world: np.ndarray,
               before: np.ndarray | None) -> np.ndarray | None:
        """The last frame's speed (B,) m/s of what the governor steers: the limbs (root-relative
        joint speed, from the normalised frames) where the checkpoint knows each label's, else
        every joint in the world (`world`, served after `before`). None for the first frame after
        a reset or a warm-up (no frame served `before` it): it moves from the mean pose (or from
        the end of a context), not with the body, and measured it jumps to 2-3 times the target
        pace, so the governor held the shipped model nearly still for its first 3-4 seconds."""
        if before is None:
            return None
        if self.limb_paces is not None:
            return self._limb_speed(nxt, prev)
        return motion.joint_speed(np.stack([before, world]), self.fps)[0]

    def _limb_speed(self, nxt: torch.Tensor, prev: torch.Tensor) -> np.ndarray:
        """Root-relative joint speed (m/s) from each normalised frame in `prev` (N, F) to the one
        in `nxt`: (N,)."""
        moved = (nxt - prev)[:, motion.ROOT_FEATURES:] * self.joint_std
        return (moved.unflatten(-1, (-1, 3)).norm(dim=-1).mean(-1) * self.fps).cpu().numpy()

    def _govern(self, speed: np.ndarray | None, goal: np.ndarray) -> None:
        self.target = goal
        if speed is None:
            return
        self.measured = _average(self.measured, speed, PACE_SMOOTHING)
        error = np.log(goal + PACE_FLOOR) - np.log(self.measured + PACE_FLOOR)
        self.integral = np.clip(self.integral + PACE_RATE * error, -PACE_DRIVE_LIMIT, PACE_DRIVE_LIMIT)
        self.drive = np.clip(self.integral + PACE_GAIN * error, -PACE_DRIVE_LIMIT, PACE_DRIVE_LIMIT)

    def _emotion_scores(self, mu: torch.Tensor, target: torch.Tensor, rows) -> torch.Tensor:
        """log p(target emotion) of each candidate frame appended to the recent frames: (b, G)."""
        b, G, _ = mu.shape
        candidates = self.head.embed_frames(mu, self.prev[rows].unsqueeze(1))             # (b, G, H)
        recent = self.embedded[rows, -(SCORE_WINDOW - 2):]                                # (b, W-2, H)
        windows = torch.cat([recent.unsqueeze(1).expand(-1, G, -1, -1), candidates.unsqueeze(2)], dim=2)
        logp = torch.log_softmax(self.head.pool(windows.flatten(0, 1)), -1)
        return (logp.view(b, G, -1) @ target.unsqueeze(-1))[..., 0]

    def rollout(self, emotion: np.ndarray, frames: int, params: SamplingParams, progress=None,
                actions: list[tuple[int, str | None]] = ()) -> np.ndarray:
        """World positions (frames, B, J, 3) for a fixed emotion; `actions` asks every performer for
        an action from a frame on, [(frame, name), …] in order (none until the first)."""
        out = np.empty((frames, self.performers, len(self.mean[motion.ROOT_FEATURES:]) // 3, 3), dtype=np.float32)
        condition = Condition(np.asarray(emotion, dtype=np.float32), [params] * self.performers)
        changes = dict(actions)
        for t in range(frames):
            if t in changes:
                condition.actions = [changes[t]] * self.performers
            out[t] = self.step(condition)
            if progress:
                progress(t + 1)
        return out


def _average(last: np.ndarray | None, value: np.ndarray, keep: float) -> np.ndarray:
    """A running average that keeps `keep` of `last` a frame (`value` itself when there is none yet)."""
    return value if last is None else keep * last + (1 - keep) * value


def _travel_speed(f: np.ndarray, fps: float) -> np.ndarray:
    """Horizontal root speed (m/s) of each denormalised frame (N, F): its own step."""
    return np.linalg.norm(f[:, 1:3], axis=-1) * fps


def _groups(params: list[SamplingParams], device) -> list[tuple[slice | torch.Tensor, SamplingParams]]:
    """Performers that share a sampler and its parameters are sampled together; when all do (the
    usual case), as a slice, which costs no copies."""
    groups: dict[tuple, list[int]] = {}
    for b, p in enumerate(params):
        groups.setdefault(tuple(vars(p).values()), []).append(b)
    if len(groups) == 1:
        return [(slice(None), params[0])]
    return [(torch.tensor(rows, device=device), params[rows[0]]) for rows in groups.values()]
