"""The model representation of motion, and the augmentations that act on it.

A frame of F = 4 + 3J features:
    [0]      root height (m)
    [1:3]    root planar velocity (x, z), metres per frame, in the previous frame's heading
    [3]      yaw rate, radians per frame
    [4:]     joint positions (J, 3) in the root's local frame (origin at the root, yaw removed)
Frame t holds the motion from t-1 to t (frame 0 moves nothing), so a model that predicts frame
t predicts how the body moved to get there. `decode` integrates the trajectory back; with the
`Origin` returned by `encode` the round trip is exact.
World convention: Y up, metres, a body facing +Z has its left at +X.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import skeleton

ROOT_FEATURES = 4


def n_features(n_joints: int = skeleton.J) -> int:
    return ROOT_FEATURES + 3 * n_joints


@dataclass(frozen=True)
class Origin:
    """Where decoding starts: the first frame's root position on the ground, and its heading."""
    x: float = 0.0
    z: float = 0.0
    yaw: float = 0.0


def heading(p: np.ndarray) -> np.ndarray:
    """Yaw (radians, 0 = facing +Z) of canonical poses (..., 21, 3), from hips and shoulders."""
    _, _, forward, _ = skeleton.body_frame(p)
    return np.arctan2(forward[..., 0], forward[..., 2])


def _rotate_y(v: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Rotate vectors (..., 3) about +Y by yaw (broadcast over the vector's leading dims)."""
    c, s = np.cos(yaw)[..., None], np.sin(yaw)[..., None]
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([c[..., 0] * x + s[..., 0] * z, y, -s[..., 0] * x + c[..., 0] * z], axis=-1)


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angles (radians) brought into [-π, π): the short way round."""
    return (a + np.pi) % (2 * np.pi) - np.pi


def encode(p: np.ndarray) -> tuple[np.ndarray, Origin]:
    """World positions (T, J, 3) → features (T, F) and the origin that `decode` needs."""
    p = np.asarray(p, dtype=np.float64)
    T, J, _ = p.shape
    root = p[:, 0]
    yaw = heading(p)
    local = _rotate_y(p - root[:, None], -yaw[:, None])
    step = np.zeros((T, 3))
    step[1:] = root[1:] - root[:-1]
    vel = np.zeros((T, 3))
    vel[1:] = _rotate_y(step[1:], -yaw[:-1])
    yaw_rate = np.zeros(T)
    yaw_rate[1:] = wrap_angle(np.diff(yaw))
    f = np.concatenate([root[:, 1:2], vel[:, [0, 2]], yaw_rate[:, None], local.reshape(T, J * 3)], axis=1)
    return f.astype(np.float32), Origin(float(root[0, 0]), float(root[0, 2]), float(yaw[0]))


def step_features(prev: np.ndarray, cur: np.ndarray, yaws: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """`encode`'s last frame for many bodies at once: poses (B, J, 3) a frame apart → features (B, F)
    of `cur` (how each body moved from `prev` to get there). For streams, where a body comes a frame
    at a time (and whose headings, `yaws` of prev and cur, the caller may already have)."""
    prev, cur = np.asarray(prev, dtype=np.float64), np.asarray(cur, dtype=np.float64)
    yaw_prev, yaw = yaws if yaws is not None else (heading(prev), heading(cur))
    root = cur[:, 0]
    local = _rotate_y(cur - root[:, None], -yaw[:, None])
    vel = _rotate_y(root - prev[:, 0], -yaw_prev)
    B = len(cur)
    return np.concatenate([root[:, 1:2], vel[:, [0, 2]], wrap_angle(yaw - yaw_prev)[:, None], local.reshape(B, -1)],
                          axis=1).astype(np.float32)


def decode(f: np.ndarray, origin: Origin = Origin()) -> np.ndarray:
    """Features (T, F) → world positions (T, J, 3), integrating velocity and yaw from `origin`."""
    f = np.asarray(f, dtype=np.float64)
    T = f.shape[0]
    yaw = origin.yaw + np.cumsum(f[:, 3])
    prev_yaw = np.concatenate([[origin.yaw], yaw[:-1]])
    step = np.zeros((T, 3))
    step[:, 0], step[:, 2] = f[:, 1], f[:, 2]
    world_step = _rotate_y(step, prev_yaw)
    world_step[0] = 0.0
    root = np.cumsum(world_step, axis=0) + np.array([origin.x, 0.0, origin.z])
    root[:, 1] = f[:, 0]
    local = f[:, ROOT_FEATURES:].reshape(T, -1, 3)
    return (_rotate_y(local, yaw[:, None]) + root[:, None]).astype(np.float32)


PACE_SECONDS = 1.0   # the pace a frame is conditioned on looks this far ahead


def joint_speed(p: np.ndarray, fps: float) -> np.ndarray:
    """World positions (T, ..., J, 3) → mean joint speed (m/s) of each transition, (T-1, ...)."""
    return np.linalg.norm(np.diff(p, axis=0), axis=-1).mean(-1) * fps


def pace(p: np.ndarray, fps: float, seconds: float = PACE_SECONDS, limbs: bool = False) -> np.ndarray:
    """World positions (T, J, 3) → (T,) float32: for each frame, the mean joint speed (m/s) over
    the transitions in the `seconds` after it (fewer at the end of a clip): in the world (walking
    and limbs alike), or with `limbs` about the root, heading-free (the limbs alone, wherever the
    body travels), which is what the solo model is conditioned on: how much the body is about to
    move itself."""
    if limbs:
        p = encode(p)[0][:, ROOT_FEATURES:].reshape(len(p), -1, 3)
    speed = joint_speed(p, fps)
    if len(speed) == 0:
        return np.zeros(len(p), dtype=np.float32)
    n = max(1, int(round(seconds * fps)))
    total = np.concatenate([[0.0], np.cumsum(speed)])
    start = np.arange(len(speed))
    end = np.minimum(start + n, len(speed))
    ahead = (total[end] - total[start]) / (end - start)
    return np.append(ahead, ahead[-1]).astype(np.float32)


def mirror(p: np.ndarray, pairs: np.ndarray = skeleton.MIRROR) -> np.ndarray:
    """Left/right mirror of world positions (..., J, 3): reflect X and swap sides."""
    out = p[..., pairs, :].copy()
    out[..., 0] *= -1
    return out


def mirror_features(f: np.ndarray, pairs: np.ndarray = skeleton.MIRROR) -> np.ndarray:
    """The same mirror on features (..., F), equal to encode(mirror(decode(f)))."""
    out = f.copy()
    out[..., 1] *= -1      # sideways velocity
    out[..., 3] *= -1      # yaw rate
    local = out[..., ROOT_FEATURES:].reshape(f.shape[:-1] + (-1, 3))[..., pairs, :]
    local[..., 0] *= -1
    out[..., ROOT_FEATURES:] = local.reshape(f.shape[:-1] + (-1,))
    return out


STEER_RATE = 0.06        # rad per frame at most (about 100°/s at 30 fps) that the stage turns a dancer
STEER_FROM = 0.6         # of the stage radius: where the turning starts (full at the edge)
STEER_SPEED = 0.003      # m per frame below which a dancer is standing, and is not turned
WALL = 0.15              # of the stage radius beyond its edge over which outward travel fades to none


def _steer_turn(x, z, yaw, vx, vz, stage: float) -> np.ndarray:
    """Yaw to add so that travel (local velocity vx, vz per frame) bends towards the centre,
    growing from nothing at STEER_FROM of the stage's radius to STEER_RATE at its edge."""
    travel = yaw + np.arctan2(vx, vz)            # world heading of the velocity (forward is +z)
    home = np.arctan2(-x, -z)                    # heading that points at the centre
    strength = np.clip((np.hypot(x, z) / stage - STEER_FROM) / (1.0 - STEER_FROM), 0.0, 1.0)
    strength[np.hypot(vx, vz) < STEER_SPEED] = 0.0
    return np.clip(wrap_angle(home - travel), -STEER_RATE, STEER_RATE) * strength


def rotate_yaw(p: np.ndarray, angle: float) -> np.ndarray:
    """World positions rotated about the vertical axis through the origin."""
    return _rotate_y(p, np.asarray(angle)).astype(p.dtype)


def turn_in_place(p: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Bodies (B, J, 3) each turned by its own yaw (B,) about the vertical through its root."""
    root = p[:, :1] * np.array([1.0, 0.0, 1.0], dtype=p.dtype)
    return (_rotate_y(p - root, np.asarray(yaw)[:, None]) + root).astype(p.dtype)


class Trajectory:
    """Streaming `decode`: integrates one frame of features per performer at a time.

    With a `stage` radius (metres), a performer who travels towards its edge is turned, a little
    each frame, until their travel points back towards the centre: a walk that would carry a
    dancer out of the camera over a long show bends into a curve instead. The turn is capped
    below the turning speed of real dancers, so it reads as a choice. One who still reaches the
    edge meets a soft wall: travel away from the centre fades out over the next WALL of the
    radius, so no dancer ever gets further than (1 + WALL) × stage from the centre."""

    def __init__(self, performers: int, origin: Origin = Origin(), stage: float = 0.0):
        self.x = np.full(performers, origin.x)
        self.z = np.full(performers, origin.z)
        self.yaw = np.full(performers, origin.yaw)
        self.stage = stage

    def reset(self, index: int, origin: Origin = Origin()) -> None:
        self.x[index], self.z[index], self.yaw[index] = origin.x, origin.z, origin.yaw

    def _wall(self, dx: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World travel (dx, dz) with its outward part faded past the stage's edge."""
        r = np.hypot(self.x, self.z)
        ux, uz = self.x / np.maximum(r, 1e-9), self.z / np.maximum(r, 1e-9)     # outward unit vector
        outward = np.maximum(dx * ux + dz * uz, 0.0)
        kept = np.clip(1.0 - (r / self.stage - 1.0) / WALL, 0.0, 1.0)          # 1 inside, 0 at the wall
        cut = outward * (1.0 - kept)
        dx, dz = dx - cut * ux, dz - cut * uz
        # and a step that would still cross the wall (one that started just inside it, or slid
        # along it) ends on it
        x, z, limit = self.x + dx, self.z + dz, self.stage * (1.0 + WALL)
        over = np.maximum(np.hypot(x, z) / limit, 1.0)
        return x / over - self.x, z / over - self.z

    def advance(self, f: np.ndarray) -> np.ndarray:
        """Features (B, F) of the next frame → world positions (B, J, 3) float32."""
        f = np.asarray(f, dtype=np.float64)
        if self.stage > 0:
            self.yaw = wrap_angle(self.yaw + _steer_turn(self.x, self.z, self.yaw, f[:, 1], f[:, 2], self.stage))
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        dx, dz = c * f[:, 1] + s * f[:, 2], -s * f[:, 1] + c * f[:, 2]
        if self.stage > 0:
            dx, dz = self._wall(dx, dz)
        self.x += dx
        self.z += dz
        self.yaw = wrap_angle(self.yaw + f[:, 3])
        local = f[:, ROOT_FEATURES:].reshape(len(f), -1, 3)
        root = np.stack([self.x, f[:, 0], self.z], axis=-1)
        return (_rotate_y(local, self.yaw[:, None]) + root[:, None]).astype(np.float32)
