"""How good is the solo model's motion? Measured against held-out real data, not judged by eye.

(a) emotion recognisability: a classifier trained only on real training clips labels 4-s windows
    of generated motion for each conditioning label; compared with its accuracy on real held-out
    windows.
(b) liveliness over a long rollout: mean joint speed generated/real per label, and the share of
    1-s windows in which the body is frozen.
(c) smoothness: mean jerk generated/real.
(d) form: bone-length relative error of the raw model output.
(e) diversity: mean distance between continuations sampled from one real context.
"""
from __future__ import annotations

import numpy as np
import torch

from ..dataset import MotionDataset
from ..metrics import (WINDOW_S, EmotionClassifier, bone_lengths, frozen_fraction, local_positions, mean_jerk, mean_speed,
                       window_features, windows)
from ..sampling import SamplingParams
from .live import SoloLive


def evaluate(model, meta: dict, ds: MotionDataset, params: SamplingParams, minutes: float = 10.0,
                  seed: int = 0, progress=None) -> dict:
    labels, fps = ds.label_names, ds.fps
    if list(meta["labels"]) != labels:
        raise ValueError(f"the checkpoint's labels {meta['labels']} differ from the dataset's {labels}")
    L = len(labels)
    train, held = ds.split(heldout=False), ds.split(heldout=True)

    # (a) classifier on real training windows
    def labelled_windows(clips):
        xs, ys = [], []
        for c in clips:
            for w in windows(ds.clip(c)[:, 0], fps):
                xs.append(window_features(w, fps))
                ys.append(ds.labels[c])
        return np.array(xs), np.array(ys)
    x_train, y_train = labelled_windows(train)
    if len(set(y_train.tolist())) < L:
        short = [labels[i] for i in range(L) if i not in set(y_train.tolist())]
        raise ValueError(f"no training clip of {', '.join(short)} is {WINDOW_S:g} s long: the emotion classifier "
                         f"reads {WINDOW_S:g}-s windows, so eval needs longer clips")
    clf = EmotionClassifier.fit(x_train, y_train, L)
    x_held, y_held = labelled_windows(held)
    real_acc = float((clf.predict(x_held) == y_held).mean()) if len(y_held) else float("nan")

    # one long rollout per label, all labels batched as performers
    frames = int(minutes * 60 * fps)
    gen = SoloLive(model, meta, performers=L, seed=seed)
    rollout = gen.rollout(np.eye(L, dtype=np.float32), frames, params, progress)       # (T, L, J, 3)
    skip = int(2 * fps)   # the first seconds start from the mean pose
    per_label, gen_correct, gen_total = {}, 0, 0
    ref_bones = np.concatenate([bone_lengths(ds.clip(c)[:, 0]) for c in train]).mean(0)
    for i, name in enumerate(labels):
        g = rollout[skip:, i]
        xs = np.array([window_features(w, fps) for w in windows(g, fps, stride_s=2.0)])
        correct = int((clf.predict(xs) == i).sum())
        gen_correct, gen_total = gen_correct + correct, gen_total + len(xs)
        real_clips = [ds.clip(c)[:, 0] for c in range(ds.n_clips) if ds.labels[c] == i]
        real_speed = np.mean([mean_speed(c, fps) for c in real_clips])
        real_jerk = np.mean([mean_jerk(c, fps) for c in real_clips])
        bone_err = np.abs(bone_lengths(g) - ref_bones) / ref_bones
        per_label[name] = {
            "emotion_accuracy": correct / max(1, len(xs)),
            "speed_ratio": mean_speed(g, fps) / real_speed,
            "frozen_fraction": frozen_fraction(g, fps),
            "real_frozen_fraction": float(np.mean([frozen_fraction(c, fps) for c in real_clips])),
            "jerk_ratio": mean_jerk(g, fps) / real_jerk,
            "bone_error": float(bone_err.mean()),
        }

    # (e) diversity: 8 continuations of 2 s from one real held-out context
    diversity = continuation_diversity(model, meta, ds, (held or train)[0], params, seed)
    speed = [v["speed_ratio"] for v in per_label.values()]
    return {
        "sampler": vars(params), "minutes": minutes, "labels": labels,
        "emotion_accuracy_generated": gen_correct / max(1, gen_total),
        "emotion_accuracy_real_heldout": real_acc,
        "emotion_accuracy_ratio": (gen_correct / max(1, gen_total)) / real_acc if real_acc > 0 else float("nan"),
        "speed_ratio_min": min(speed), "speed_ratio_max": max(speed),
        "frozen_fraction": float(np.mean([v["frozen_fraction"] for v in per_label.values()])),
        "jerk_ratio": float(np.mean([v["jerk_ratio"] for v in per_label.values()])),
        "bone_error": float(np.mean([v["bone_error"] for v in per_label.values()])),
        "diversity_m": diversity,
        "per_label": per_label,
    }


@torch.inference_mode()
def continuation_diversity(model, meta: dict, ds: MotionDataset, clip: int, params: SamplingParams, seed: int,
                           n: int = 8, seconds: float = 2.0) -> float:
    """Mean pairwise distance (m, per joint, root-relative) between n continuations of one context."""
    mean, std = np.asarray(meta["feature_mean"]), np.asarray(meta["feature_std"])
    ctx_len = min(model.config.context, ds.clip_length(clip) - 1)
    context = (ds.features[clip][:ctx_len, 0] - mean) / std
    label = ds.labels[clip]
    emotion = np.zeros((n, len(meta["labels"])), dtype=np.float32)
    emotion[:, label] = 1
    gen = SoloLive(model, meta, performers=n, seed=seed)
    gen.warm_up(context, emotion)
    out = gen.rollout(emotion, int(seconds * ds.fps), params)                  # (T, n, J, 3)
    local = np.stack([local_positions(out[:, k]) for k in range(n)], axis=1)  # (T, n, J, 3)
    d = np.linalg.norm(local[:, :, None] - local[:, None], axis=-1).mean(-1).mean(0)   # (n, n)
    return float(d[np.triu_indices(n, 1)].mean())
