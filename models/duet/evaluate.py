"""How good a partner is the duet model? Measured on the held-out salsa takes, every figure beside the
same figure for the real follower dancing with the same lead.

(a) where the partner goes: rollouts of 2 s from real history (48 frames of the real pair), the
    partner's root relative to the lead after 0.5 / 1 / 2 s against the real follower's, bucketed by
    how far apart the two stood; beside a follower that only keeps its place relative to the lead.
(b) a long rollout (a held-out lead replayed forward and back for `minutes`, each take its own pair):
    the hip-to-hip distance distribution against the real one (KS statistic), how often the torsos
    interpenetrate, foot skating, bone-length error, the partner's speed over the last minute, and
    how often the reach guard (live.REACH) had to pull the partner back.
(c) does it respond, and to the lead it was given: the response lag (the cross-correlation peak of
    the lead's and the partner's speed: ≥ 0, since the partner never sees the future), and the
    reaction test. Salsa couples dance in one spot, so a lead that only dances its take is no test: a
    partner that stays where it started would pass. So the lead is also made to travel, the take
    carried round a circle (DRIFT_RADIUS, once every DRIFT_PERIOD_S) as a dancer roaming the stage
    would; a partner that reacts keeps a dancer's distance from it (the hip-distance KS against the
    real pair's stays low). Beside it, two partners that ignore the travel: the model given the take
    in place, and the real follower, both measured against the travelling lead. And how much each
    partner faces its lead (the mean cosine of its heading and the direction to the lead).
"""
from __future__ import annotations

import numpy as np

from .. import motion, skeleton
from ..dataset import MotionDataset
from ..body import median_bones
from ..metrics import bone_error, foot_skating, limb_speed, mean_speed
from .live import Partner
from .model import DuetModel, relation

HISTORY = 48                 # frames of real pair a short rollout starts from
HORIZONS_S = (0.5, 1.0, 2.0)
STARTS_EVERY_S = 1.0
BUCKETS = ((0.0, 0.7, "near (< 0.7 m)"), (0.7, 1.2, "mid (0.7-1.2 m)"), (1.2, np.inf, "far (> 1.2 m)"))
TORSO = [skeleton.INDEX[n] for n in ("pelvis", "spine", "chest", "neck", "head")]
TOUCH = 0.2                  # metres: torso joints of the two closer than this interpenetrate
DRIFT_RADIUS = 1.5           # metres: the reaction test's lead travels round a circle this big ...
DRIFT_PERIOD_S = 30.0        # ... once in this long (about 0.3 m/s, a slow walk)
MAX_LAG_S = 2.0


def heldout_pairs(ds: MotionDataset) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, lead (T, J, 3), real follower (T, J, 3)) for every held-out take."""
    if ds.n_performers != 2:
        raise ValueError(f"{ds.source}: the duet eval needs pairs (cmu-salsa)")
    return [(ds.clip_names[c], ds.clip(c)[:, 0], ds.clip(c)[:, 1]) for c in ds.split(heldout=True)]


def pingpong(p: np.ndarray, frames: int) -> np.ndarray:
    """A clip played forward, then backward, then forward …, `frames` long: a lead that never jumps,
    however long the rollout."""
    cycle = np.concatenate([p, p[-2:0:-1]])
    return cycle[np.arange(frames) % len(cycle)]


def rollout(model: DuetModel, meta: dict, leads: np.ndarray, noise: float = 1.0, seed: int = 0,
            history: np.ndarray | None = None, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Partners (T, P, J, 3) for leads (T, P, J, 3), and the share of frames (P,) in which the reach
    guard had to move each; with `history` (H, P, J, 3), the first H frames are the real
    followers' (the model is shown them) and the partner takes over from there."""
    partner = Partner(model, meta, leads.shape[1], seed)
    out = np.empty(leads.shape, dtype=np.float32)
    for t in range(len(leads)):
        real = history[t] if history is not None and t < len(history) else None
        out[t] = partner.step(leads[t], noise, real)
        if progress:
            progress(t + 1)
    return out, partner.held / max(1, partner.frames)


# ---- the measures (pure numpy, on world positions) ------------------------------------------------

def hip_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Horizontal root-to-root distance (T,) of two bodies (T, J, 3)."""
    return np.linalg.norm((a[:, 0] - b[:, 0])[:, [0, 2]], axis=-1)


def ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.abs(np.searchsorted(a, grid, "right") / len(a) - np.searchsorted(b, grid, "right") / len(b)).max())


def interpenetration(a: np.ndarray, b: np.ndarray) -> float:
    """Share of frames in which some torso joint of one is within TOUCH of one of the other's."""
    d = np.linalg.norm(a[:, TORSO, None] - b[:, None, TORSO], axis=-1)
    return float((d.min(axis=(1, 2)) < TOUCH).mean())


def _speed_series(p: np.ndarray, fps: float) -> np.ndarray:
    s = motion.joint_speed(p, fps)
    return (s - s.mean()) / (s.std() + 1e-9)


def response_lag(lead: np.ndarray, partner: np.ndarray, fps: float) -> float:
    """Seconds by which the partner's movement follows the lead's: the lag (within ±MAX_LAG_S) at
    which their speed series correlate most. Positive: the partner answers after the lead."""
    a, b = _speed_series(lead, fps), _speed_series(partner, fps)
    n, most = len(a), int(MAX_LAG_S * fps)
    lags = np.arange(-most, most + 1)
    corr = [np.mean(a[max(0, -k):n - max(0, k)] * b[max(0, k):n - max(0, -k)]) for k in lags]
    return float(lags[int(np.argmax(corr))] / fps)


def drift(lead: np.ndarray, fps: float, start: int = 0) -> np.ndarray:
    """The lead carried round a circle through where it started (the reaction test's travelling lead)."""
    t = (np.arange(len(lead)) + start) / fps * 2 * np.pi / DRIFT_PERIOD_S
    offset = DRIFT_RADIUS * np.stack([np.sin(t), np.zeros_like(t), 1 - np.cos(t)], axis=-1)
    return lead + offset[:, None].astype(lead.dtype)


def facing(lead: np.ndarray, partner: np.ndarray) -> float:
    """Mean cosine between the partner's heading and its direction to the lead (1: facing them)."""
    yaw = motion.heading(partner)
    forward = np.stack([np.sin(yaw), np.cos(yaw)], axis=-1)
    to_lead = (lead[:, 0] - partner[:, 0])[:, [0, 2]]
    to_lead /= np.maximum(np.linalg.norm(to_lead, axis=-1, keepdims=True), 1e-6)
    return float((forward * to_lead).sum(-1).mean())


def placed(lead: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """The partner's root in the lead's heading frame (T, 2)."""
    return relation(lead, partner)[:, :2]


# ---- the evaluation -------------------------------------------------------------------------------

def short_rollouts(model: DuetModel, meta: dict, pairs, noise: float, seed: int) -> dict:
    """(a): errors in metres at each horizon, model and hold-in-place baseline, per distance bucket."""
    fps = float(meta.get("fps", 30.0))
    horizons = [int(round(h * fps)) for h in HORIZONS_S]
    H = max(horizons)
    leads, follows = [], []
    for _, lead, follow in pairs:
        for t0 in range(HISTORY, len(lead) - H, int(STARTS_EVERY_S * fps)):
            leads.append(lead[t0 - HISTORY:t0 + H + 1])
            follows.append(follow[t0 - HISTORY:t0 + H + 1])
    if not leads:
        raise ValueError("the held-out takes are too short for 2-s rollouts")
    leads, follows = np.stack(leads, 1), np.stack(follows, 1)               # (T, N, J, 3)
    made, _ = rollout(model, meta, leads, noise, seed, history=follows[:HISTORY + 1])
    start = HISTORY
    real_rel = np.stack([placed(leads[:, n], follows[:, n]) for n in range(leads.shape[1])], 1)
    made_rel = np.stack([placed(leads[:, n], made[:, n]) for n in range(leads.shape[1])], 1)
    apart = np.linalg.norm(real_rel[start], axis=-1)                        # (N,)
    rows = {}
    for lo, hi, name in ((0.0, np.inf, "all"),) + BUCKETS:
        sel = (apart >= lo) & (apart < hi)
        if not sel.any():
            continue
        row = {"rollouts": int(sel.sum())}
        for h, seconds in zip(horizons, HORIZONS_S):
            err = np.linalg.norm(made_rel[start + h, sel] - real_rel[start + h, sel], axis=-1)
            hold = np.linalg.norm(real_rel[start, sel] - real_rel[start + h, sel], axis=-1)
            row[f"{seconds:g}s"] = float(err.mean())
            row[f"{seconds:g}s_hold"] = float(hold.mean())
        rows[name] = row
    return rows


def evaluate(model: DuetModel, meta: dict, ds: MotionDataset, minutes: float = 10.0, noise: float = 1.0,
             seed: int = 0, progress=None) -> dict:
    fps = float(meta.get("fps", 30.0))
    if abs(ds.fps - fps) > 1e-6:
        raise ValueError(f"the dataset is at {ds.fps:g} fps, the model at {fps:g}")
    pairs = heldout_pairs(ds)
    frames = int(minutes * 60 * fps)
    # every take twice: its lead in place, and travelling
    leads = np.stack([f(pingpong(lead, frames)) for _, lead, _ in pairs
                      for f in (lambda p: p, lambda p: drift(p, fps))], 1)
    made, guarded = rollout(model, meta, leads, noise, seed, progress=progress)
    last = slice(max(0, frames - int(60 * fps)), frames)
    takes = {}
    for i, (name, lead, follow) in enumerate(pairs):
        mine, travelled = made[:, 2 * i], made[:, 2 * i + 1]
        own_lead, travelling = leads[:, 2 * i], leads[:, 2 * i + 1]
        real, apart = hip_distance(lead, follow), hip_distance(own_lead, mine)
        world, real_world = mean_speed(mine[last], fps), mean_speed(follow, fps)
        local, real_local = limb_speed(mine[last], fps), limb_speed(follow, fps)
        bones = median_bones([follow])[1:]
        takes[name] = {
            "hip_distance_ks": ks(apart, real),
            "hip_distance_m": float(apart.mean()),
            "hip_distance_m_real": float(real.mean()),
            "interpenetration": interpenetration(own_lead, mine),
            "interpenetration_real": interpenetration(lead, follow),
            "foot_skating": foot_skating(mine, fps), "foot_skating_real": foot_skating(follow, fps),
            "bone_error": bone_error(mine, bones), "bone_error_real": bone_error(follow, bones),
            "speed_ratio": world / real_world, "limb_speed_ratio": local / real_local,
            "response_lag_s": response_lag(own_lead, mine, fps), "response_lag_s_real": response_lag(lead, follow, fps),
            "facing": facing(own_lead, mine), "facing_real": facing(lead, follow),
            "reach_guard": float(guarded[2 * i]), "travel_reach_guard": float(guarded[2 * i + 1]),
            "travel_ks": ks(hip_distance(travelling, travelled), real),
            "travel_ks_ignoring": ks(hip_distance(travelling, mine), real),
            "travel_ks_real_ignoring": ks(hip_distance(drift(lead, fps), follow), real),
            "travel_facing": facing(travelling, travelled), "travel_facing_ignoring": facing(travelling, mine),
        }
    pooled = {k: float(np.mean([t[k] for t in takes.values()])) for k in next(iter(takes.values()))}
    return {"takes": takes, "pooled": pooled, "horizons": short_rollouts(model, meta, pairs, noise, seed),
            "minutes": minutes, "noise": noise, "fps": fps}
