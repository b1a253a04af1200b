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


def load_dancer(spec: str, fps: float = 30.0) -> tuple[np.ndarray, str]:
    """One dancer's world positions (T, 21, 3) on the canonical skeleton at `fps`, and a title, from
    a BVH file, a .npy of canonical positions, or a salsa take: `salsa:14` (its lead), `salsa:14:follow`."""
    from .dataset import data_root, load_bvh_canonical, resample
    if spec.startswith(("salsa:", "cmu-salsa:")):
        parts = spec.split(":")
        take, who = parts[1].zfill(2), parts[2] if len(parts) > 2 else "lead"
        if who not in ("lead", "follow") or len(parts) > 3:
            raise ValueError(f"{spec}: a salsa take is salsa:NN or salsa:NN:follow")
        folder = data_root() / "cmu_salsa" / "bvh"
        found = sorted(folder.glob(f"{60 if who == 'lead' else 61}_{take}_*.bvh"))
        found = [f for f in found if "first" not in f.stem] or found
        if not found:
            raise ValueError(f"{spec}: no take {take} in {folder}")
        return load_bvh_canonical(found[0], fps), f"salsa take {take} ({who})"
    if Path(spec).suffix.lower() == ".bvh":
        return load_bvh_canonical(Path(spec), fps), Path(spec).name
    motion = load_motion(spec)
    p = motion.positions[:, 0]
    if p.shape[1] != skeleton.J:
        raise ValueError(f"{spec}: {p.shape[1]} joints; expected the canonical {skeleton.J}")
    return resample(p, motion.fps, fps), motion.title
