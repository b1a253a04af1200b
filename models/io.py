"""Reading and writing motion files: BVH, datasets (.npz) and plain arrays (.npy + sidecar JSON).

A `.npy` holds world positions (T, J, 3) float32 in metres, Y up; its sidecar `X.json` gives
joint names, parents and fps (and, for generated clips, what was asked for). This is the format
`bvh2npy` and `generate` write and every other tool can read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import skeleton
from .bvh import read_bvh
from .dataset import MotionDataset
from .files import atomic_write


@dataclass
class Motion:
    """One clip to look at: positions (T, P, J, 3) with its skeleton."""
    positions: np.ndarray
    names: list[str]
    parents: list[int]
    fps: float
    title: str = ""
    meta: dict = field(default_factory=dict)


def sidecar(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def save_npy(path: str | Path, positions: np.ndarray, names: list[str], parents: list[int], fps: float,
             **meta) -> None:
    """Write positions (T, J, 3) and the sidecar JSON, each atomically."""
    path = Path(path)
    positions = np.ascontiguousarray(positions, dtype=np.float32)
    atomic_write(path, lambda fh: np.save(fh, positions))
    info = {"joints": list(names), "parents": list(parents), "fps": fps, "units": "metres", "up": "+Y",
            "frames": int(positions.shape[0]), **meta}
    atomic_write(sidecar(path), lambda fh: fh.write(json.dumps(info, indent=2).encode()))


def load_motion(path: str | Path, clip: int = 0) -> Motion:
    """A BVH file, a dataset (clip `clip`) or a .npy with its sidecar."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        bvh = read_bvh(path)
        return Motion(bvh.positions()[:, None], bvh.joint_names, bvh.joint_parents(), bvh.fps, path.name)
    if suffix == ".npz":
        ds = MotionDataset.load(path)
        if not 0 <= clip < ds.n_clips:
            raise ValueError(f"{path}: clip {clip} out of range (0..{ds.n_clips - 1})")
        label = ds.label_names[ds.labels[clip]]
        return Motion(ds.clip(clip), skeleton.JOINTS, skeleton.PARENTS, ds.fps,
                      f"{ds.clip_names[clip]} [{label}]")
    if suffix == ".npy":
        p = np.load(path, allow_pickle=False)
        meta = json.loads(sidecar(path).read_text()) if sidecar(path).exists() else {}
        if p.ndim == 3:
            p = p[:, None]
        names = meta.get("joints", skeleton.JOINTS if p.shape[2] == skeleton.J else [str(i) for i in range(p.shape[2])])
        parents = meta.get("parents", skeleton.PARENTS if p.shape[2] == skeleton.J else [-1] * p.shape[2])
        return Motion(p, names, parents, float(meta.get("fps", 30.0)), path.name, meta)
    raise ValueError(f"{path}: expected a .bvh, a dataset .npz or a .npy")
