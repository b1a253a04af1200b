"""Datasets: clips of canonical motion with their labels, a held-out split and feature stats.

One `.npz` file holds everything a model needs, with each clip's label stored beside the clip
itself, so no shuffle or split can separate them:

    positions      (N, P, 21, 3) float32   world positions of all clips, concatenated; P performers
    clip_offsets   (C + 1,) int64          clip c is positions[clip_offsets[c]:clip_offsets[c+1]]
    clip_names     (C,) str
    labels         (C,) int64              index into label_names
    label_names    (L,) str
    heldout        (C,) bool               never seen by training
    fps            ()  float
    feature_mean, feature_std (F,) float32 over the training clips' features, all performers
    source         () str                  what it was built from
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

import numpy as np

from . import motion, skeleton
from .bvh import Bvh, BvhError, read_bvh
from .files import atomic_write

log = logging.getLogger(__name__)

BANDAI_STYLES = ("normal", "happy", "sad", "angry", "proud", "not-confident", "tired")
BANDAI_HOLDOUT = ("guide", "byebye")
BANDAI2_HOLDOUT = ("wave-left-hand",)   # the right-hand and both-hands waves still train
SALSA_HOLDOUT = ("14", "15")


def data_root() -> Path:
    """The shared motion data: $MOTIONBRIDGE_DATA, else `../shared/motiondata` beside the project."""
    env = os.environ.get("MOTIONBRIDGE_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = base.parent / "shared" / "motiondata"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "motiondata"


@dataclass
class MotionDataset:
    positions: np.ndarray
    clip_offsets: np.ndarray
    clip_names: list[str]
    labels: np.ndarray
    label_names: list[str]
    heldout: np.ndarray
    fps: float
    feature_mean: np.ndarray
    feature_std: np.ndarray
    source: str = ""

    @property
    def n_clips(self) -> int:
        return len(self.clip_names)

    @property
    def n_performers(self) -> int:
        return self.positions.shape[1]

    def clip(self, c: int) -> np.ndarray:
        """World positions (T, P, J, 3) of clip c."""
        return self.positions[self.clip_offsets[c]:self.clip_offsets[c + 1]]

    def clip_length(self, c: int) -> int:
        return int(self.clip_offsets[c + 1] - self.clip_offsets[c])

    @cached_property
    def features(self) -> list[np.ndarray]:
        """Per clip, features (T, P, F) in the model representation (not normalised)."""
        out = []
        for c in range(self.n_clips):
            p = self.clip(c)
            out.append(np.stack([motion.encode(p[:, k])[0] for k in range(p.shape[1])], axis=1))
        return out

    def split(self, heldout: bool) -> list[int]:
        return [c for c in range(self.n_clips) if bool(self.heldout[c]) == heldout]

    def label_counts(self) -> dict[str, int]:
        return {name: int((self.labels == i).sum()) for i, name in enumerate(self.label_names)}

    def save(self, path: str | Path) -> None:
        """Write atomically: a failure leaves no partial file at `path`."""
        atomic_write(path, lambda fh: np.savez(
            fh, positions=self.positions, clip_offsets=self.clip_offsets, clip_names=np.array(self.clip_names),
            labels=self.labels, label_names=np.array(self.label_names), heldout=self.heldout,
            fps=np.float64(self.fps), feature_mean=self.feature_mean, feature_std=self.feature_std,
            source=np.array(self.source)))

    @classmethod
    def load(cls, path: str | Path) -> "MotionDataset":
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(positions=z["positions"], clip_offsets=z["clip_offsets"],
                           clip_names=[str(s) for s in z["clip_names"]], labels=z["labels"],
                           label_names=[str(s) for s in z["label_names"]], heldout=z["heldout"],
                           fps=float(z["fps"]), feature_mean=z["feature_mean"],
                           feature_std=z["feature_std"], source=str(z["source"]))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such file") from None
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: not a motionbridge dataset ({str(e).split('.')[0]})") from None


@dataclass
class Clip:
    name: str
    label: str
    positions: np.ndarray   # (T, P, J, 3) at the dataset fps
    heldout: bool


def action(clip_name: str) -> str:
    """What a clip shows being done, from its name: Bandai's `dataset-N_{content}_{style}_{take}`
    gives its content; any other clip is its own action (nothing says two clips do the same thing)."""
    parts = clip_name.split("_")
    return parts[1] if len(parts) == 4 and parts[0].startswith("dataset-") else clip_name


def mirrored_action(name: str) -> str:
    """The action a clip shows when mirrored left to right: a walk to the left becomes one to the right."""
    return "-".join({"left": "right", "right": "left"}.get(w, w) for w in name.split("-"))


def named_actions(names: list[str]) -> list[str]:
    """The actions clips with these names show, sorted, where every name says one (Bandai's
    do); none where any does not, since then an action is only a clip's own name."""
    acts = [action(n) for n in names]
    return sorted(set(acts)) if names and all(a != n for a, n in zip(acts, names)) else []


def resample(p: np.ndarray, src_fps: float, fps: float) -> np.ndarray:
    """Linear resampling along axis 0; an integer ratio keeps every k-th frame exactly."""
    if abs(src_fps - fps) < 1e-6:
        return p
    ratio = src_fps / fps
    if abs(ratio - round(ratio)) < 1e-6:
        return p[::int(round(ratio))]
    t = np.arange(0, (len(p) - 1) / src_fps + 1e-9, 1.0 / fps) * src_fps
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, len(p) - 1)
    w = (t - i0).reshape((-1,) + (1,) * (p.ndim - 1))
    return ((1 - w) * p[i0] + w * p[i1]).astype(p.dtype)


def canonical(bvh: Bvh, fps: float) -> np.ndarray:
    """A BVH's motion on the canonical skeleton at `fps`: (T, J, 3)."""
    return resample(skeleton.from_bvh(bvh), bvh.fps, fps)


def load_bvh_canonical(path: Path, fps: float) -> np.ndarray:
    return canonical(read_bvh(path), fps)


def assemble(clips: list[Clip], fps: float, source: str, label_names: list[str] | None = None) -> MotionDataset:
    if not clips:
        raise ValueError(f"{source}: no clips to build a dataset from")
    label_names = label_names or sorted({c.label for c in clips})
    index = {n: i for i, n in enumerate(label_names)}
    lengths = [len(c.positions) for c in clips]
    ds = MotionDataset(
        positions=np.concatenate([c.positions for c in clips]).astype(np.float32),
        clip_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        clip_names=[c.name for c in clips],
        labels=np.array([index[c.label] for c in clips], dtype=np.int64),
        label_names=list(label_names),
        heldout=np.array([c.heldout for c in clips], dtype=bool),
        fps=fps, feature_mean=np.zeros(0, np.float32), feature_std=np.zeros(0, np.float32), source=source,
    )
    train = ds.split(heldout=False) or list(range(ds.n_clips))
    feats = np.concatenate([ds.features[c].reshape(-1, ds.features[c].shape[-1]) for c in train])
    ds.feature_mean = feats.mean(0).astype(np.float32)
    # a joint that never moves in the local frame (the root itself) would divide by zero
    ds.feature_std = np.maximum(feats.std(0), 1e-3).astype(np.float32)
    return ds


def merge(parts: list[MotionDataset]) -> MotionDataset:
    """Several datasets of one skeleton, rate and performer count as one: their clips in order,
    each keeping its held-out mark; labels of the same name become one (Bandai-1's and -2's
    "normal"), the others follow in order of first appearance; stats over all training clips."""
    if len({(ds.fps, ds.n_performers) for ds in parts}) != 1:
        raise ValueError("datasets to merge must share their frame rate and performer count")
    clips = [Clip(ds.clip_names[c], ds.label_names[ds.labels[c]], ds.clip(c), bool(ds.heldout[c]))
             for ds in parts for c in range(ds.n_clips)]
    return assemble(clips, parts[0].fps, " + ".join(ds.source for ds in parts),
                    list(dict.fromkeys(n for ds in parts for n in ds.label_names)))


def _progress(items: list, description: str, progress: Callable | None) -> Iterable:
    return progress(items, description) if progress else items


def _bandai_files(folder: Path, stack: contextlib.ExitStack
                  ) -> Iterator[tuple[str, dict, Callable[[], Bvh] | None]]:
    """Each labelled clip of a Bandai set: its name, its JSON label and how to read its BVH (None
    when the label names a clip that is missing), from `data/` or, read in place, from `data.zip`
    (dataset-2 ships zipped: 2,902 clips, 515 MB unpacked)."""
    archive = folder / "data.zip"
    if archive.is_file():
        z = stack.enter_context(zipfile.ZipFile(archive))
        names = set(z.namelist())
        for member in sorted(n for n in names if n.endswith(".json")):
            bvh = member.removesuffix(".json") + ".bvh"
            read = (lambda bvh=bvh: read_bvh(f"{archive}/{bvh}", z.read(bvh))) if bvh in names else None
            yield PurePosixPath(member).stem, json.loads(z.read(member)), read
        return
    for label_file in sorted((folder / "data").glob("*.json")):
        bvh = label_file.with_suffix(".bvh")
        read = (lambda bvh=bvh: read_bvh(bvh)) if bvh.exists() else None
        yield label_file.stem, json.loads(label_file.read_text()), read


def _names(path: Path) -> list[str]:
    """A Bandai cfg list, without its `dataset-N_` prefixes."""
    return [re.sub(r"^dataset-\d+_", "", line.strip()) for line in path.read_text().split()]


def build_bandai(folder: Path, fps: float = 30.0, styles: Iterable[str] | None = None,
                 holdout: Iterable[str] | None = None, progress: Callable | None = None) -> MotionDataset:
    """Bandai clips of the chosen styles (`all`: every one), labelled from their JSON files, held
    out by action. Dataset-1 (`bandai/`) defaults to its 7 emotion-like styles, holding out guide
    and byebye; dataset-2 (`bandai2/`, zipped) to all 7 of its styles, holding out
    wave-left-hand."""
    folder = Path(folder)
    contents, style_names = _names(folder / "cfg" / "content_label.txt"), _names(folder / "cfg" / "style_label.txt")
    second = (folder / "data.zip").is_file()
    styles = list(styles or (style_names if second else BANDAI_STYLES))
    styles = style_names if styles == ["all"] else styles
    holdout = set(holdout or (BANDAI2_HOLDOUT if second else BANDAI_HOLDOUT))
    unknown = set(styles) - set(style_names)
    if unknown:
        raise ValueError(f"unknown Bandai styles {sorted(unknown)}; known: {', '.join(style_names)}")
    with contextlib.ExitStack() as stack:
        jobs = []
        for name, meta, read in _bandai_files(folder, stack):
            content, style = contents[meta["content"]], style_names[meta["style"]]
            if style not in styles:
                continue
            if read is None:
                log.warning("%s: its label names a clip that is missing (%s.bvh); skipped", folder, name)
                continue
            jobs.append((name, read, content, style))
        clips = []
        for name, read, content, style in _progress(jobs, folder.name, progress):
            try:
                bvh = read()
            except BvhError as e:
                log.warning("%s; skipped", e)
                continue
            clips.append(Clip(name, style, canonical(bvh, fps)[:, None], content in holdout))
    return assemble(clips, fps, f"{folder.name} styles={','.join(styles)} holdout={','.join(sorted(holdout))}", styles)


def build_salsa(folder: Path, fps: float = 30.0, holdout: Iterable[str] = SALSA_HOLDOUT,
                progress: Callable | None = None) -> MotionDataset:
    """CMU salsa take pairs: performer 0 leads (subject 60), 1 follows (61), one shared world."""
    folder = Path(folder)
    bvh_dir = folder / "bvh" if (folder / "bvh").is_dir() else folder
    holdout = set(holdout)
    pairs = []
    for lead in sorted(bvh_dir.glob("60_*.bvh")):
        take = lead.stem.split("_")[1]
        follow = next(iter(sorted(bvh_dir.glob(f"61_{take}*.bvh"))), None)
        if follow is None:
            log.warning("%s: no follower take 61_%s; skipped", lead, take)
            continue
        pairs.append((take, lead, follow))
    clips = []
    for take, lead, follow in _progress(pairs, "cmu-salsa", progress):
        a, b = load_bvh_canonical(lead, fps), load_bvh_canonical(follow, fps)
        n = min(len(a), len(b))
        clips.append(Clip(f"salsa_{take}", "salsa", np.stack([a[:n], b[:n]], axis=1), take in holdout))
    return assemble(clips, fps, f"cmu-salsa holdout={','.join(sorted(holdout))}")


def label_from_name(stem: str) -> str:
    """The last `_`-separated word of a file name that is not a number: happy_01 → happy."""
    words = [w for w in re.split(r"[_\s]+", stem) if w and not w.isdigit()]
    return words[-1] if words else stem


def build_folder(folder: Path, fps: float = 30.0, progress: Callable | None = None) -> MotionDataset:
    """Every BVH in a folder, labelled by file name; the last clip of each label with 3+ is held out."""
    folder = Path(folder)
    files = sorted(folder.glob("*.bvh"))
    if not files:
        raise ValueError(f"{folder}: no .bvh files")
    by_label: dict[str, list[Path]] = {}
    for f in files:
        by_label.setdefault(label_from_name(f.stem), []).append(f)
    held = {group[-1] for group in by_label.values() if len(group) >= 3}
    clips = []
    for f in _progress(files, folder.name, progress):
        try:
            clips.append(Clip(f.stem, label_from_name(f.stem), load_bvh_canonical(f, fps)[:, None], f in held))
        except (BvhError, ValueError) as e:
            log.warning("%s; skipped", e)
    return assemble(clips, fps, f"folder {folder}")


def build(source: str, fps: float = 30.0, progress: Callable | None = None, **options) -> MotionDataset:
    """`bandai`, `bandai2`, `cmu-salsa`, or a folder of BVH files; several joined by `+`
    (`bandai+bandai2`: both Bandai sets, the options applying to each) are merged."""
    if "+" in source:
        return merge([build(part, fps, progress, **options) for part in source.split("+")])
    named = {"bandai": ("bandai", build_bandai), "bandai2": ("bandai2", build_bandai),
             "cmu-salsa": ("cmu_salsa", build_salsa),
             "salsa": ("cmu_salsa", build_salsa)}
    if source in named:
        folder, builder = named[source]
        where = data_root() / folder
        if not where.is_dir():
            told = os.environ.get("MOTIONBRIDGE_DATA")
            raise ValueError(f"{source}: no data at {where} ({'from MOTIONBRIDGE_DATA' if told else 'the default'}); "
                             f"set MOTIONBRIDGE_DATA to the folder that holds {folder}/, or put it at "
                             f"../shared/motiondata beside the project")
        return builder(where, fps, progress=progress, **options)
    path = Path(source)
    if not path.is_dir():
        raise ValueError(f"{source}: not a folder, nor one of: bandai, bandai2, cmu-salsa")
    return build_folder(path, fps, progress=progress)
