"""Training the solo model: its options, its training windows, and its losses, as a `Task` the
shared loop (models.train) runs.

Losses: keypoint MSE, the MDN likelihood (its weight held low, then ramped up linearly, so the
mean head shapes the body before the mixture spreads), a velocity loss, bone lengths, and the
emotion head's on real and on generated motion. Inputs are partly the model's own predictions,
more so as training goes on (decaying teacher forcing), and noisy; targets are clean. With
`--rollout N`, the model also runs free for the last N frames of each window, sampling its own
mixture as it does live, and that rollout is judged as a show would be (`Rollout`).
"""
from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import checkpoint, metrics, motion, schedules, skeleton
from ..body import median_bones
from ..dataset import MotionDataset, action, mirrored_action, named_actions
from ..sampling import SamplingParams, draw, held, skeleton_noise, wander
from ..train import TrainConfig
from .live import LIMB_CORRELATION, NOISE_CORRELATION
from .model import SoloConfig, SoloModel

DATA = "bandai"                       # what `train solo` trains on unless told


@dataclass
class Options:
    mdn_schedule: str = "linear"      # constant | linear | exponential
    mdn_start: float = 0.1
    mdn_end: float = 1.0
    mdn_delay: float = 0.3            # fraction of steps before the MDN weight ramps
    mdn_ramp: float = 0.4             # fraction of steps the ramp takes
    w_emotion: float = 0.2
    w_velocity: float = 0.5
    w_bone: float = 3.0               # relative bone-length error of every MDN component's pose
    teacher_forcing_floor: float = 0.25  # share of real input frames at the end of training
    input_noise: float = 0.03         # std (normalised units) of noise on input frames, not targets
    mirror: bool = True
    balance: bool = True              # windows drawn evenly by label, and by action within a label
    drop_emotion: float = 0.1         # share of windows shown no emotion: what guidance steers away from
    drop_action: float = 0.25         # share of windows shown no action: what a body does when none is asked
    rollout: int = 0                  # frames each window's end is generated free-running (0: none)
    w_rollout_emotion: float = 1.0    # the rollout named as its emotion by the frozen emotion head
    w_rollout_limbs: float = 1.0      # its arms, legs, trunk as fast as the real continuation's (log-ratio²)
    w_rollout_feet: float = 1.0       # its feet not sliding faster than the real ones (m/s over)
    w_rollout_jerk: float = 1.0       # its limbs no jerkier than the real ones (log-ratio over, squared)


class WindowSampler:
    """Random training windows, each drawn with the label and the action of the clip it came from.

    A window and its label are read from one clip index in one place, so no shuffle can pair
    motion with another clip's label (the seed code shuffled them separately).

    Drawn in proportion to the windows a clip holds, Bandai's emotions come lopsided (normal is a
    third of the windows, angry 43 s in all) and each mixed with whatever its actors happened to
    do most: a long dance clip makes "normal" mean dancing. Balanced, every label is drawn as often,
    and within a label every action it performs is (see `balanced`), so what is being done no
    longer tells the emotion.
    """

    def __init__(self, ds: MotionDataset, clips: list[int], length: int, mirror: bool, seed: int,
                 balance: bool = False, actions: list[str] = ()):
        self.length = length + 1          # inputs and their next frames
        self.clips = [c for c in clips if ds.clip_length(c) >= self.length]
        if not self.clips:
            raise ValueError(f"no clip is {self.length} frames long; use a shorter --context")
        self.features = [(ds.features[c][:, 0] - ds.feature_mean) / ds.feature_std for c in self.clips]
        self.mirrored = [(motion.mirror_features(ds.features[c][:, 0]) - ds.feature_mean) / ds.feature_std
                         for c in self.clips] if mirror else None
        self.pace = [motion.pace(ds.clip(c)[:, 0], ds.fps, limbs=True) for c in self.clips]
        self.labels = np.array([ds.labels[c] for c in self.clips])
        # each clip's index in `actions`, the model's action list; -1 for one it does not name
        acts = [action(ds.clip_names[c]) for c in self.clips]
        index = {a: i for i, a in enumerate(actions)}
        self.actions = np.array([index.get(a, -1) for a in acts], dtype=np.int64)
        self.mirrored_actions = np.array([index.get(mirrored_action(a), -1) for a in acts], dtype=np.int64)
        windows = np.array([len(f) - self.length + 1 for f in self.features], dtype=np.float64)
        self.weights = balanced(windows, self.labels, acts) if balance \
            else windows / windows.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(windows (B, length+1, F) float32, labels (B,) int64, pace of the input frames
        (B, length) float32, actions (B,) int64, -1 for none)."""
        picks = self.rng.choice(len(self.clips), size=size, p=self.weights)
        windows = np.empty((size, self.length, self.features[0].shape[1]), dtype=np.float32)
        pace = np.empty((size, self.length - 1), dtype=np.float32)
        actions = self.actions[picks]
        for b, k in enumerate(picks):
            mirrored = self.mirrored is not None and self.rng.random() < 0.5
            source = self.mirrored[k] if mirrored else self.features[k]
            if mirrored:
                actions[b] = self.mirrored_actions[k]
            start = self.rng.integers(0, len(source) - self.length + 1)
            windows[b] = source[start:start + self.length]
            pace[b] = self.pace[k][start:start + self.length - 1]
        return windows, self.labels[picks], pace, actions


def balanced(windows: np.ndarray, labels: np.ndarray, actions: list[str]) -> np.ndarray:
    """Each clip's chance of being drawn, so that every label is drawn equally often, every action
    equally often within its label, and clips of one label and action in proportion to their
    windows (every window of such a cell equally likely)."""
    cells: dict[tuple, float] = {}
    for n, label, act in zip(windows, labels, actions):
        cells[label, act] = cells.get((label, act), 0.0) + n
    per_label = collections.Counter(label for label, _ in cells)
    return np.array([n / cells[label, act] / per_label[label] / len(per_label)
                     for n, label, act in zip(windows, labels, actions)])


def _pace(ds: MotionDataset, clips: list[int], speed=metrics.limb_speed) -> float:
    """The root-relative joint speed (m/s) of these clips (or another `speed`), per second of
    motion (each clip weighted by its length): averaged clip by clip, a 2-s dash counts as much as
    a 20-s stroll, and the governor held sad's limbs at 0.34 m/s where its clips move at 0.26 m/s
    a second."""
    clips = [c for c in clips if ds.clip_length(c) > 1]
    if not clips:
        return 0.0
    speeds = [speed(ds.clip(c)[:, 0], ds.fps) for c in clips]
    return float(np.average(speeds, weights=[ds.clip_length(c) for c in clips]))


def label_paces(ds: MotionDataset, speed=metrics.limb_speed) -> dict[str, float]:
    """Each label's typical pace, over its training clips. Live generation asks the model for this
    pace when given this emotion (times the energy), and the pace governor steers the limbs
    towards it. With `speed=metrics.travel_speed`, how fast the label's root travels, which
    live serving holds the body's travel under."""
    train = ds.split(heldout=False)
    return {name: _pace(ds, [c for c in train if ds.labels[c] == i], speed) for i, name in enumerate(ds.label_names)}


def action_paces(ds: MotionDataset, actions: list[str]) -> dict[str, dict[str, float]]:
    """Each label's pace doing each of `actions` that its training clips show (Bandai's names say
    which): asked to bow, a body is steered to a bow's pace, not to its emotion's, which is mostly
    walks'."""
    train = ds.split(heldout=False)
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(ds.label_names):
        clips = [c for c in train if ds.labels[c] == i]
        by_action = {a: _pace(ds, [c for c in clips if action(ds.clip_names[c]) == a]) for a in actions}
        out[name] = {a: v for a, v in by_action.items() if v > 0}       # 0: only clips too short to move
    return out


def loss_weights(step: int, tc: TrainConfig, o: Options) -> dict[str, float]:
    delay, ramp = int(o.mdn_delay * tc.steps), int(o.mdn_ramp * tc.steps)
    weights = {
        "mse": 1.0,
        "mdn": schedules.ramp(step, o.mdn_start, o.mdn_end, delay, ramp, o.mdn_schedule),
        "velocity": o.w_velocity,
        "bone": o.w_bone,
        "emotion_real": o.w_emotion,
        "emotion_gen": o.w_emotion,
    }
    if o.rollout:
        # a rollout means something once the mixture does: its losses ramp in with the MDN's, and
        # while they weigh nothing there is no rollout to generate
        share = schedules.ramp(step, 0.0, 1.0, delay, ramp)
        rollout = {"rollout_emotion": share * o.w_rollout_emotion, "rollout_limbs": share * o.w_rollout_limbs,
                   "rollout_feet": share * o.w_rollout_feet, "rollout_jerk": share * o.w_rollout_jerk}
        if sum(rollout.values()) > 0:
            weights |= rollout
    return weights


class BoneLoss:
    """Relative bone-length error of each MDN component's mean pose against the real next frame.

    The likelihood alone lets a component's mean sit inside the arc a fast wrist sweeps (the
    average of points on a sphere lies within it): a forearm a quarter short. Every component is
    a pose the body may take next, so each must keep the body's proportions."""

    def __init__(self, feature_mean: np.ndarray, feature_std: np.ndarray, device):
        joints = slice(motion.ROOT_FEATURES, None)
        self.mean = torch.as_tensor(feature_mean[joints], dtype=torch.float32, device=device)
        self.std = torch.as_tensor(feature_std[joints], dtype=torch.float32, device=device)
        parents = np.array(skeleton.PARENTS)
        self.child = torch.as_tensor(np.flatnonzero(parents >= 0), device=device)
        self.parent = torch.as_tensor(parents[parents >= 0], device=device)

    def lengths(self, f: torch.Tensor) -> torch.Tensor:
        """Normalised features (..., F) → bone lengths (..., bones) in metres."""
        p = (f[..., motion.ROOT_FEATURES:] * self.std + self.mean).unflatten(-1, (-1, 3))
        return (p[..., self.child, :] - p[..., self.parent, :]).norm(dim=-1)

    def __call__(self, mu: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        real = self.lengths(targets).unsqueeze(-2)                    # (B, T, 1, bones)
        return ((self.lengths(mu) - real).abs() / real.clamp_min(1e-3)).mean()


class Rollout:
    """The last `frames` of each training window generated free-running, as live: each frame a
    draw from the model's own mixture fed back as the next input, gradients flowing back through
    every draw (reparameterised). Drawn as the live sampler draws: one component for the whole
    pose, the one drawn for the frame before favoured by the live `hold`; sigma divided by the live
    variance divisor; noise that wanders over frames and moves each joint with its parent
    (models.solo.live). Drawn otherwise, with fresh noise and a fresh component every frame, the
    model learns to meet the losses below with jitter that live sampling holds back: the limbs of
    the model shipped on 2026-12-04 moved 0.7-1.1x as fast as real ones served with no hold (and
    3-8x as jerky), 0.3-1.0x as served.

    Teacher-forced losses teach the next frame after real ones; these teach what a show is made
    of, frames after the model's own:

    - emotion: the frozen emotion head (trained on real motion only, as for `emotion_gen`) names
      the rollout's emotion; windows shown no emotion are not asked to show one;
    - limbs: the root-relative speed of the arms, of the legs and of the trunk, each, is the real
      continuation's (log-ratio squared); a model fed its own frames settles slower than real bodies
      move, and its emotions fade with it. Matched over the whole body at once, the model of
      2026-12-04 made up the speed with its arms (proud's wrists at 2.3x real, its toes at 0.4x),
      and what it did with them read as happy;
    - feet: a foot near the floor does not slide faster than the real continuation's do;
    - jerk: the limbs' jerk (third difference) is no more than the real continuation's, so the
      limbs move as the real ones do rather than tremble.

    The eval reads emotion with a classifier of its own (models.metrics), never this head."""

    SAMPLING = SamplingParams()                    # the live samplers' defaults: variance, hold
    FEET, CONTACT = metrics.FEET, metrics.CONTACT  # the feet, and how near the floor is down, as the eval's
    PARTS = list(metrics.PARTS.values())           # the parts whose speeds are matched apart

    def __init__(self, frames: int, fps: float, feature_mean: np.ndarray, feature_std: np.ndarray, device):
        self.frames, self.fps = frames, fps
        self.mean = torch.as_tensor(feature_mean, dtype=torch.float32, device=device)
        self.std = torch.as_tensor(feature_std, dtype=torch.float32, device=device)
        self.limbs = skeleton_noise(skeleton.PARENTS, LIMB_CORRELATION, motion.ROOT_FEATURES).to(device)

    def generate(self, model: SoloModel, w: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor,
                 rng: torch.Generator, action: torch.Tensor | None = None) -> torch.Tensor:
        """Real frames w (B, T+1, F), normalised → the same window with its last `frames` generated."""
        B, T1, Fd = w.shape
        start = T1 - self.frames
        x, rows = w[:, :start], torch.arange(B, device=w.device)
        p = self.SAMPLING
        noise, last = torch.randn((B, Fd), generator=rng).to(w.device), None
        for t in range(start, T1):
            out = model(x, emotion, pace[:, :t], action=action)
            pi, mu, sigma = out.pi_logits[:, -1], out.mu[:, -1], out.sigma[:, -1]        # (B, G), (B, G, F)
            last = draw(held(pi.detach(), last, p.hold), rng)
            if t > start:
                noise = wander(noise, NOISE_CORRELATION, rng)
            step = mu[rows, last] + sigma[rows, last] * (noise @ self.limbs) / p.variance
            x = torch.cat([x, step.unsqueeze(1)], dim=1)
        return x

    def _local(self, f: torch.Tensor) -> torch.Tensor:
        """Normalised frames (B, T, F) → joints in the root's frame (B, T, J, 3), metres."""
        return (f * self.std + self.mean)[..., motion.ROOT_FEATURES:].unflatten(-1, (-1, 3))

    def limb_speed(self, f: torch.Tensor) -> torch.Tensor:
        """(B, parts) mean root-relative speed (m/s) of each part of the body (metrics.PARTS: arms,
        legs, trunk) over the frames of f."""
        local = self._local(f)
        speed = (local[:, 1:] - local[:, :-1]).norm(dim=-1).mean(1) * self.fps       # (B, J)
        return torch.stack([speed[:, joints].mean(-1) for joints in self.PARTS], dim=-1)

    def jerk(self, f: torch.Tensor) -> torch.Tensor:
        """(B,) mean magnitude of the root-relative joints' third difference (m/s³) over f."""
        return torch.diff(self._local(f), n=3, dim=1).norm(dim=-1).mean((1, 2)) * self.fps ** 3

    def foot_skating(self, f: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
        """(B,) mean horizontal speed (m/s) of the feet weighted by how surely each is down (within
        CONTACT of `floor`, (B,), with a soft edge so the weight has a gradient)."""
        raw = f * self.std + self.mean
        feet = self._local(f)[..., self.FEET, :]                                       # (B, T, 4, 3)
        height = feet[..., 1] + raw[..., :1]                                            # world height
        # frame t's feet in frame t-1's heading: the root's step plus the turned local position
        yaw = raw[:, 1:, 3, None]
        cos, sin = torch.cos(yaw), torch.sin(yaw)
        x, z = feet[:, 1:, :, 0], feet[:, 1:, :, 2]
        dx = raw[:, 1:, 1, None] + cos * x + sin * z - feet[:, :-1, :, 0]
        dz = raw[:, 1:, 2, None] - sin * x + cos * z - feet[:, :-1, :, 2]
        speed = torch.sqrt(dx ** 2 + dz ** 2 + 1e-10) * self.fps                      # (B, T-1, 4)
        down = torch.sigmoid((floor[:, None, None] + self.CONTACT - height[:, 1:]) / 0.01)
        return (down * speed).sum((1, 2)) / down.sum((1, 2)).clamp_min(1.0)

    def floor(self, f: torch.Tensor) -> torch.Tensor:
        """(B,) the lowest foot height in each window (real frames: where its floor is)."""
        raw = f * self.std + self.mean
        return (self._local(f)[..., self.FEET, 1] + raw[..., :1]).amin((1, 2))

    def losses(self, model: SoloModel, w: torch.Tensor, emotion: torch.Tensor, labels: torch.Tensor,
               pace: torch.Tensor, rng: torch.Generator, action: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        x = self.generate(model, w, emotion, pace, rng, action)
        gen, real = x[:, -self.frames - 1:], w[:, -self.frames - 1:]      # with the frame before, for speeds
        frozen = {k: v.detach() for k, v in model.emotion_head.named_parameters()}
        logits = torch.func.functional_call(model.emotion_head, frozen, (gen,))
        asked = emotion.sum(-1) > 0
        named = F.cross_entropy(logits, labels, reduction="none")
        eps = 0.05   # m/s: a standing body's speed is noise, not a ratio worth matching
        jolt = 1.0   # m/s³: likewise a standing body's jerk
        floor = self.floor(w)
        return {
            "rollout_emotion": (named * asked).sum() / asked.sum().clamp_min(1),
            "rollout_limbs": ((self.limb_speed(gen) + eps).log() - (self.limb_speed(real) + eps).log()).pow(2).mean(),
            "rollout_feet": F.relu(self.foot_skating(gen, floor) - self.foot_skating(real, floor)).mean(),
            "rollout_jerk": F.relu((self.jerk(gen) + jolt).log() - (self.jerk(real) + jolt).log()).pow(2).mean(),
        }


def withheld(emotion: torch.Tensor, share: float, rng: torch.Generator) -> torch.Tensor:
    """Emotion weights (B, L) with a random `share` of rows zeroed: the model learns motion with no
    emotion asked beside motion with one, and live guidance (SoloLive._run) steers by the
    difference. The emotion head's losses keep every window's label. Actions are withheld the same
    way, so that a body asked for none still moves as it pleases."""
    if share <= 0:
        return emotion
    keep = torch.rand(emotion.shape[0], generator=rng).to(emotion.device) >= share
    return emotion * keep[:, None]


def one_hot(index: torch.Tensor, n: int) -> torch.Tensor:
    """Indices (B,) → one-hot rows (B, n), a row of zeros where the index is -1 (none)."""
    return F.one_hot(index.clamp_min(0), n).float() * (index >= 0)[:, None] if n else index.new_zeros(len(index), 0).float()


def _teacher_force(model: SoloModel, x: torch.Tensor, emotion: torch.Tensor, pace: torch.Tensor, keep: float,
                   rng: torch.Generator, action: torch.Tensor | None = None) -> torch.Tensor:
    """Replace a share of input frames with the model's own prediction of them, so it learns
    to carry on from its imperfect output rather than freeze or drift in long rollouts."""
    if keep >= 1.0:
        return x
    own = x
    with torch.no_grad():
        for _ in range(2):   # predictions made from predictions: errors as they compound live
            own = torch.cat([x[:, :1], model(own, emotion, pace, action=action).mean[:, :-1]], dim=1)
    use_real = torch.rand(x.shape[:2], generator=rng, device="cpu").to(x.device) < keep
    return torch.where(use_real.unsqueeze(-1), x, own)


@torch.no_grad()
def validate(model: SoloModel, sampler: WindowSampler, device, bone_loss: BoneLoss,
             batches: int = 8, batch_size: int = 32) -> dict[str, float]:
    """Losses on held-out windows, and how often the emotion head names their label."""
    totals: dict[str, float] = {}
    correct = 0
    c = model.config
    for _ in range(batches):
        w, labels, pace, actions = (torch.from_numpy(a).to(device) for a in sampler.batch(batch_size))
        emotion = one_hot(labels, c.n_labels)
        out = model(w[:, :-1], emotion, pace, w[:, 1:], labels, one_hot(actions, c.n_actions))
        out.losses["bone"] = bone_loss(out.mu, w[:, 1:])
        for k, v in out.losses.items():
            totals[k] = totals.get(k, 0.0) + float(v) / batches
        correct += int((model.emotion_head(w[:, 1:]).argmax(-1) == labels).sum())
    totals["emotion_head_accuracy"] = correct / (batches * batch_size)
    return totals



class Task:
    """What the shared loop asks of a family: a model, a batch's losses, validation, and what the
    checkpoint carries."""
    kind = "solo"
    curves = ("mse", "mdn", "emotion_real", "emotion_gen")    # the validation losses the training curve draws

    def __init__(self, ds: MotionDataset, config: SoloConfig, options: Options, init: str = ""):
        config.n_labels, config.n_features = len(ds.label_names), ds.feature_mean.shape[0]
        # the actions the training clips' names say (none for data whose names do not); fine-tuning,
        # the starting checkpoint's, so each action input means what it meant and a model that
        # takes none still takes none (taught by fine-tuning alone, actions were not heeded: README)
        if init:
            source = checkpoint.read_meta(init)
            self.actions = list(source.get("actions", []))
            # frames normalised as the weights learnt them, not by this data's own stats
            ds.feature_mean = np.asarray(source["feature_mean"], dtype=np.float32)
            ds.feature_std = np.asarray(source["feature_std"], dtype=np.float32)
        else:
            self.actions = named_actions([ds.clip_names[c] for c in ds.split(heldout=False)])
        config.n_actions = len(self.actions)
        config.check()
        if not 0 <= options.rollout < config.context:
            raise ValueError(f"rollout must be 0 to context - 1 ({config.context - 1}) frames, got {options.rollout}")
        self.ds, self.config, self.options, self.init = ds, config, options, init
        # once per run, not at every checkpoint written: the limbs' pace encodes every clip.
        # The model is conditioned on the limbs' pace, not the world's: asked for a world pace, a
        # model can meet it by travelling while its arms hang (the shipped model until 2026-12-04
        # did). Checkpoints before then hold world paces under "pace", and limb paces apart.
        self.paces = {"pace": label_paces(ds), "pace_of": "limbs",
                      "travel_pace": label_paces(ds, metrics.travel_speed)}
        if self.actions:
            self.paces["action_pace"] = action_paces(ds, self.actions)
        # ... and the dancers' bone lengths, which the live body is held to (models.body)
        self.bones = median_bones([ds.clip(c)[:, 0] for c in ds.split(heldout=False)])

    def build(self) -> SoloModel:
        return SoloModel(self.config)

    def start(self, tc: TrainConfig, step: int, rank: int, device: torch.device) -> None:
        """Ready to draw batches from `step` on (a resumed run draws new windows)."""
        ds, c, o = self.ds, self.config, self.options
        self.tc, self.device = tc, device
        self.batches = WindowSampler(ds, ds.split(heldout=False), c.context, o.mirror, tc.seed * 1000 + rank + step,
                                     o.balance, self.actions)
        held = ds.split(heldout=True)
        self.held = WindowSampler(ds, held or ds.split(heldout=False), c.context, False, tc.seed + 7,
                                  actions=self.actions)
        self.rng = torch.Generator().manual_seed(tc.seed + rank)
        self.bone_loss = BoneLoss(ds.feature_mean, ds.feature_std, device)
        self.rollout = Rollout(o.rollout, ds.fps, ds.feature_mean, ds.feature_std, device)

    def losses(self, model, step: int) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
        """One training batch through `model` (perhaps wrapped in DDP): its losses and their weights."""
        tc, o, device = self.tc, self.options, self.device
        w, labels, pace, actions = (torch.from_numpy(a).to(device) for a in self.batches.batch(tc.batch_size))
        emotion = withheld(one_hot(labels, self.config.n_labels), o.drop_emotion, self.rng)
        act = withheld(one_hot(actions, self.config.n_actions), o.drop_action, self.rng)
        plain = model.module if hasattr(model, "module") else model
        keep = schedules.teacher_forcing(step, tc.steps, o.teacher_forcing_floor)
        x = _teacher_force(plain, w[:, :-1], emotion, pace, keep, self.rng, act)
        # noisy inputs, clean targets: the model learns to steer back towards real motion, which
        # is what keeps a free-running rollout from drifting off over minutes
        x = x + o.input_noise * torch.randn(x.shape, generator=self.rng).to(device)
        out = model(x, emotion, pace, w[:, 1:], labels, act)
        out.losses["bone"] = self.bone_loss(out.mu, w[:, 1:])
        weights = loss_weights(step, tc, o)
        if "rollout_emotion" in weights:
            out.losses |= self.rollout.losses(plain, w, emotion, labels, pace, self.rng, act)
        return out.losses, weights

    def validate(self, model: SoloModel) -> dict[str, float]:
        return validate(model, self.held, self.device, self.bone_loss)

    def meta(self) -> dict:
        ds = self.ds
        return {"labels": ds.label_names, "actions": self.actions, "fps": ds.fps,
                **self.paces,
                "guidance": self.options.drop_emotion > 0, "bone_lengths": self.bones.tolist(),
                "feature_mean": ds.feature_mean.tolist(), "feature_std": ds.feature_std.tolist()}
