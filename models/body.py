"""Keeping a generated body a body: its bones at their lengths, and its planted feet on the ground.

A network run on its own output drifts in ways a body cannot: its bones stretch and shrink, and its
feet slide, the more so when its root is moved after it has made its pose (steered back to its place,
kept within reach of a partner, turned). Two guards, for any family's live output:

- `fit_bones`: every bone set to its length, each keeping its direction.
- `plant`: frame by frame, a foot that was on the ground and still is keeps last frame's place, and
  its leg bends to reach it (two-bone inverse kinematics: the knee found from the hip, the held
  ankle and the leg's two bone lengths, bending the way it bent before). A foot lets go as it lifts
  (between PLANT and LIFT above its standing height), or when the body has moved so far that
  holding it would pull the leg straight, or left it HOLD away from where the pose wants it: then
  it catches up in the air over the next frames.

Pure NumPy on positions (P, J, 3).
"""
from __future__ import annotations

import numpy as np

from . import skeleton

PARENTS = np.asarray(skeleton.PARENTS)


def _ancestry() -> np.ndarray:
    """(J, J-1): 1 where bone k (ending at joint k+1) lies on the way from the root to joint j."""
    a = np.zeros((skeleton.J, skeleton.J - 1), dtype=np.float32)
    for j in range(1, skeleton.J):
        k = j
        while k > 0:
            a[j, k - 1] = 1.0
            k = PARENTS[k]
    return a


ANCESTRY = _ancestry()


def joint_bones(pose: np.ndarray) -> np.ndarray:
    """(..., J) each joint's distance from its parent, 0 for the root (the bone lengths indexed by
    joint: the root is joint 0 and every other joint ends one bone)."""
    bones = np.linalg.norm(pose[..., 1:, :] - pose[..., PARENTS[1:], :], axis=-1)
    return np.concatenate([np.zeros(bones.shape[:-1] + (1,), dtype=bones.dtype), bones], axis=-1)


def median_bones(bodies: list[np.ndarray]) -> np.ndarray:
    """(J,) each joint's bone length, the median over every pose of `bodies` (each (..., J, 3)): the
    body a model's live output is held to, recorded with it by its training."""
    return np.median(np.concatenate([joint_bones(b).reshape(-1, skeleton.J) for b in bodies]), axis=0)


def fit_bones(local: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Poses (B, J, 3) with every bone set to its length (`joint_bones`), each keeping its direction:
    a joint is the root plus the bones on its way there, each resized (one product with the
    skeleton's ancestry, rather than a walk from the root outwards)."""
    bones = local[:, 1:] - local[:, PARENTS[1:]]                                     # (B, J-1, 3)
    bones *= (lengths[1:, None] / np.maximum(np.sqrt((bones * bones).sum(-1, keepdims=True)), 1e-6))
    return (local[:, :1] + np.einsum("jk,bkc->bjc", ANCESTRY, bones)).astype(local.dtype)


LEGS = np.array([[skeleton.INDEX[f"{side}_{part}"] for part in ("hip", "knee", "ankle", "toe")] for side in "lr"])
PLANT = 0.05         # metres above its standing height within which a foot joint is on the ground ...
LIFT = 0.10          # ... and above which it is in the air (in between, partly)
HOLD = 0.15          # metres a held ankle may lag where the pose wants it before it starts to let go ...
LET_GO = 0.15        # ... and this much further, it has let go


def grounded(pose: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """How much each leg's foot is on the ground (P, 2), 0 to 1, from the lower of its ankle and toe
    against their heights when standing (`standing`: (2, 2), leg × (ankle, toe))."""
    above = pose[:, LEGS[:, 2:], 1] - standing                                 # (P, 2, 2)
    return 1.0 - np.clip((above.min(-1) - PLANT) / (LIFT - PLANT), 0.0, 1.0)


def plant(pose: np.ndarray, before: np.ndarray, standing: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """`pose` (P, J, 3) with each foot that was on the ground in `before` (the last frame, as
    served) and still is held where it was, its knee bent to reach it; `bones` (J,) each joint's
    distance from its parent (`joint_bones`). A new array; the rest of the body is untouched."""
    hip, knee, ankle, toe = (LEGS[:, i] for i in range(4))
    hold = grounded(pose, standing) * grounded(before, standing)              # (P, 2)
    lag = np.linalg.norm(pose[:, ankle] - before[:, ankle], axis=-1)
    hold *= np.clip(1.0 - (lag - HOLD) / LET_GO, 0.0, 1.0)
    if not hold.any():
        return pose
    w = hold[..., None]
    H, K = pose[:, hip], pose[:, knee]
    A = pose[:, ankle] + w * (before[:, ankle] - pose[:, ankle])            # (P, 2, 3): where the feet go
    T = pose[:, toe] + w * (before[:, toe] - pose[:, toe])
    thigh, shin = bones[knee], bones[ankle]                                   # (2,)
    # a foot the leg cannot reach is drawn towards the hip until it can (the foot kept rigid)
    reach = A - H
    d = np.linalg.norm(reach, axis=-1, keepdims=True)
    longest = (thigh + shin)[:, None] * 0.999
    short = np.maximum(d - longest, 0.0) * reach / np.maximum(d, 1e-9)
    A, T = A - short, T - short
    reach = A - H
    d = np.maximum(np.linalg.norm(reach, axis=-1, keepdims=True), 1e-6)
    u = reach / d
    # the knee bends in the plane it bent in before (hip, knee, foot), the toes' way if the leg was straight
    bend = (K - H) + 1e-3 * (T - A)
    bend -= (bend * u).sum(-1, keepdims=True) * u
    bend /= np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    t1 = thigh[:, None]
    cos = np.clip((t1 ** 2 + d ** 2 - shin[:, None] ** 2) / (2 * t1 * d), -1.0, 1.0)
    foot = T - A
    T = A + foot * (bones[toe][:, None] / np.maximum(np.linalg.norm(foot, axis=-1, keepdims=True), 1e-9))
    held = w > 0                                    # a leg in the air keeps its pose exactly
    out = pose.copy()
    out[:, knee] = np.where(held, H + t1 * (cos * u + np.sqrt(1.0 - cos ** 2) * bend), K)
    out[:, ankle] = np.where(held, A, pose[:, ankle])
    out[:, toe] = np.where(held, T, pose[:, toe])
    return out
