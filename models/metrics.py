"""Measures of motion that apply to any family's output and to real motion alike, so that the two
are always computed the same way: an emotion classifier over window statistics trained only on real
clips, joint speed (in the world, and of the limbs about the root), travel, hand height, trunk lean,
cadence, foot skating, frozen seconds, jerk, bone lengths.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import motion, skeleton
from .body import joint_bones

WINDOW_S = 4.0
FROZEN_SPEED = 0.05       # m/s mean joint speed (root-relative) below which a second counts as frozen
FEET = [skeleton.INDEX[n] for n in ("l_ankle", "l_toe", "r_ankle", "r_toe")]
CONTACT = 0.05            # metres above the clip's floor within which a foot is on the ground
HANDS = [skeleton.INDEX[n] for n in ("l_wrist", "r_wrist")]
# The body in parts whose speeds are measured apart: an average over every joint lets flailing
# arms stand in for legs that never step (the model shipped on 2026-12-04 met the limbs' speed with
# proud's wrists at 2.3x real and its toes at 0.4x)
ARMS = [skeleton.INDEX[n] for n in ("l_elbow", "l_wrist", "r_elbow", "r_wrist")]
LEGS = [skeleton.INDEX[n] for n in ("l_knee", "l_ankle", "l_toe", "r_knee", "r_ankle", "r_toe")]
TRUNK = [j for j in range(1, len(skeleton.JOINTS)) if j not in ARMS + LEGS]     # the pelvis is the root: still
PARTS = {"arms": ARMS, "legs": LEGS, "trunk": TRUNK}


def local_positions(p: np.ndarray) -> np.ndarray:
    """World (T, J, 3) → root-relative, heading-free positions (T, J, 3)."""
    f, _ = motion.encode(p)
    return f[:, motion.ROOT_FEATURES:].reshape(len(p), -1, 3)


def window_features(p: np.ndarray, fps: float) -> np.ndarray:
    """A motion window (T, J, 3) → summary statistics the classifier reads."""
    local = local_positions(p)
    vel = np.diff(local, axis=0) * fps
    speed = np.linalg.norm(vel, axis=-1)
    root = p[:, 0]
    root_speed = np.linalg.norm(np.diff(root[:, [0, 2]], axis=0), axis=-1) * fps
    return np.concatenate([local.mean(0).ravel(), local.std(0).ravel(), speed.mean(0), speed.std(0),
                           [root_speed.mean(), root_speed.std(), root[:, 1].mean(), root[:, 1].std()]])


def windows(p: np.ndarray, fps: float, stride_s: float = 0.5) -> list[np.ndarray]:
    n, stride = int(WINDOW_S * fps), max(1, int(stride_s * fps))
    return [p[s:s + n] for s in range(0, len(p) - n + 1, stride)]


@dataclass
class EmotionClassifier:
    """Multinomial logistic regression on window statistics: small, fast, and trained only on
    real training clips, so it judges generated motion the way it judges real motion."""
    weight: torch.Tensor
    bias: torch.Tensor
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, n_labels: int, l2: float = 1e-2, steps: int = 400) -> "EmotionClassifier":
        mean, std = x.mean(0), x.std(0) + 1e-6
        xt = torch.tensor((x - mean) / std, dtype=torch.float32)
        yt = torch.tensor(y)
        w = torch.zeros(x.shape[1], n_labels, requires_grad=True)
        b = torch.zeros(n_labels, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(xt @ w + b, yt) + l2 * (w ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return cls(w.detach(), b.detach(), mean, std)

    def predict(self, x: np.ndarray) -> np.ndarray:
        xt = torch.tensor((x - self.mean) / self.std, dtype=torch.float32)
        return (xt @ self.weight + self.bias).argmax(-1).numpy()


def mean_speed(p: np.ndarray, fps: float) -> float:
    """Mean joint speed (m/s) of world positions (T, J, 3)."""
    return float(motion.joint_speed(p, fps).mean())


def limb_speed(p: np.ndarray, fps: float, joints: list[int] | slice = slice(None)) -> float:
    """Mean root-relative speed (m/s) of `joints` (every one unless told): how much the limbs move,
    travel left out."""
    return float(np.linalg.norm(np.diff(local_positions(p)[:, joints], axis=0), axis=-1).mean() * fps)


def travel_speed(p: np.ndarray, fps: float) -> float:
    """Mean horizontal speed (m/s) of the root of world positions (T, J, 3): how fast the body
    travels, whatever its limbs do."""
    return float(np.linalg.norm(np.diff(p[:, 0, [0, 2]], axis=0), axis=-1).mean() * fps)


def hand_height(p: np.ndarray) -> float:
    """Mean height of the wrists above the pelvis (m): raised, proud arms against hanging, tired ones."""
    return float((p[:, HANDS, 1] - p[:, None, 0, 1]).mean())


def trunk_lean(p: np.ndarray) -> float:
    """Mean angle (degrees) of the pelvis-to-neck line from the vertical: a slumped or a straight back."""
    spine = p[:, skeleton.INDEX["neck"]] - p[:, 0]
    return float(np.degrees(np.arccos(np.clip(spine[:, 1] / np.linalg.norm(spine, axis=-1), -1, 1))).mean())


def _on_ground(feet: np.ndarray) -> np.ndarray:
    """(T, F) whether each foot joint is within CONTACT of the clip's floor (its 2nd-percentile height)."""
    return feet[..., 1] < np.percentile(feet[..., 1], 2) + CONTACT


def foot_skating(p: np.ndarray, fps: float) -> float:
    """Mean horizontal speed (m/s) of feet while on the ground."""
    feet = p[:, FEET]
    speed = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1) * fps
    down = _on_ground(feet)
    down = down[1:] & down[:-1]
    return float(speed[down].mean()) if down.any() else 0.0


def cadence(p: np.ndarray, fps: float) -> float:
    """Foot touch-downs per second (either ankle arriving on the ground)."""
    down = _on_ground(p[:, [FEET[0], FEET[2]]])
    return float((down[1:] & ~down[:-1]).sum() / max(1e-9, (len(p) - 1) / fps))


def frozen_fraction(p: np.ndarray, fps: float) -> float:
    """Share of 1-s windows whose root-relative joint speed is below FROZEN_SPEED."""
    local = local_positions(p)
    speed = np.linalg.norm(np.diff(local, axis=0), axis=-1).mean(-1) * fps       # (T-1,)
    n = int(fps)
    chunks = [speed[s:s + n].mean() for s in range(0, len(speed) - n + 1, n)]
    return float(np.mean(np.array(chunks) < FROZEN_SPEED)) if chunks else 0.0


def mean_jerk(p: np.ndarray, fps: float) -> float:
    """Mean magnitude of the third derivative of joint positions (m/s³)."""
    return float(np.linalg.norm(np.diff(p, n=3, axis=0), axis=-1).mean() * fps ** 3)


def bone_error(p: np.ndarray, lengths: np.ndarray) -> float:
    """Mean relative difference of the bone lengths of p (T, J, 3) from `lengths` (a real body's,
    usually its median over a clip)."""
    return float(np.mean(np.abs(bone_lengths(p) - lengths) / np.maximum(lengths, 1e-6)))


def bone_lengths(p: np.ndarray) -> np.ndarray:
    """(..., J-1) the length of every bone (joint 1 onwards, each to its parent)."""
    return joint_bones(p)[..., 1:]
