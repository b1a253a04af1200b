"""How good is the solo model's motion? Every figure per label, beside the same figure for real motion
of that label computed the same way.

Emotion. A classifier over 4-s window statistics (metrics.EmotionClassifier), trained on real motion
only and never used as a training loss, reads windows of generated motion conditioned on each label.
Its yardstick is how well it reads real motion it has not seen doing that thing: leave-one-action-
out over the actions every label performs (each action's windows judged by a classifier trained on
the others), so the real figure is what a classifier does on new content, as generated motion is
new content; a random split would let it recognise clips it has half seen. The generated windows are
judged by the classifier trained on all of them. Both sides use the same windows (length, stride)
and report window accuracy per label, label-balanced and pooled.

Body. Root-relative limb speed (every joint's, and the arms' and the legs' apart), travel, hand height,
trunk lean, cadence, foot skating, jerk, bone-length error (against the real median lengths) and
frozen seconds (on root-relative motion), from rollouts per label started from the rest pose and
from several real held-out contexts, several performers each (different random draws); diversity:
how far continuations of one context spread. Where a label is not recognised, `read_as` says what
its windows were taken for.
"""
from __future__ import annotations

import numpy as np
import torch

from ..body import median_bones
from ..dataset import MotionDataset, action
from ..metrics import (ARMS, LEGS, WINDOW_S, EmotionClassifier, bone_error, cadence, foot_skating, frozen_fraction,
                       hand_height, limb_speed, local_positions, mean_jerk, travel_speed, trunk_lean, window_features,
                       windows)
from ..sampling import SamplingParams
from .live import SoloLive

STRIDE_S = 1.0          # windows start every second, real and generated alike
CONTEXTS = 3            # real held-out contexts a rollout starts from, beside the rest pose
DRAWS = 2               # performers per label and start (each its own random draws)
SKIP_S = 2.0            # seconds of a rollout left out: it starts from the mean pose or a real context
BODY = ("limb_speed", "arm_speed", "leg_speed", "travel", "hand_height", "trunk_lean", "cadence", "foot_skating",
        "jerk", "bone_error", "frozen")
# reported as generated / real
RATIOS = ("limb_speed", "arm_speed", "leg_speed", "travel", "foot_skating", "jerk", "cadence")


def body_figures(p: np.ndarray, fps: float, bones: np.ndarray) -> dict[str, float]:
    """The body measures of one stream (T, J, 3)."""
    return {"limb_speed": limb_speed(p, fps), "arm_speed": limb_speed(p, fps, ARMS),
            "leg_speed": limb_speed(p, fps, LEGS), "travel": travel_speed(p, fps),
            "hand_height": hand_height(p), "trunk_lean": trunk_lean(p),
            "cadence": cadence(p, fps), "foot_skating": foot_skating(p, fps), "jerk": mean_jerk(p, fps),
            "bone_error": bone_error(p, bones), "frozen": frozen_fraction(p, fps)}


def _mean(figures: list[dict], weights: list[float]) -> dict[str, float]:
    return {k: float(np.average([f[k] for f in figures], weights=weights)) for k in figures[0]}


def _windows(p: np.ndarray, fps: float) -> np.ndarray:
    return np.array([window_features(w, fps) for w in windows(p, fps, stride_s=STRIDE_S)])


def _accuracy(predicted: np.ndarray, truth: np.ndarray, L: int) -> tuple[list[float | None], float, float]:
    """Per-label accuracy (None for a label with no window), label-balanced and pooled."""
    per = [float((predicted[truth == i] == i).mean()) if (truth == i).any() else None for i in range(L)]
    seen = [a for a in per if a is not None]
    return per, float(np.mean(seen)) if seen else float("nan"), float((predicted == truth).mean())


def read_as(predicted: np.ndarray, names: list[str]) -> dict[str, float]:
    """The share of windows read as each label, most first: where a label that is not recognised
    goes (a window the baseline could not judge, -1, counts as none)."""
    shares = {n: float((predicted == i).mean()) for i, n in enumerate(names)} if len(predicted) else {}
    return dict(sorted(((n, v) for n, v in shares.items() if v > 0), key=lambda kv: -kv[1]))


def real_baseline(ds: MotionDataset) -> dict:
    """Leave-one-action-out accuracy of the classifier on real motion, per label; and the classifier
    trained on every real window (the generated motion's judge). Actions are those every label
    performs; a dataset whose clip names say nothing of actions is held out clip by clip."""
    L, fps = len(ds.label_names), ds.fps
    acts = [action(ds.clip_names[c]) for c in range(ds.n_clips)]
    shared = sorted(set.intersection(*[{a for a, lab in zip(acts, ds.labels) if lab == i} for i in range(L)]))
    if len(shared) < 2:
        shared = sorted(set(acts))                       # no shared actions: every clip its own
        clips = list(range(ds.n_clips))
    else:
        clips = [c for c in range(ds.n_clips) if acts[c] in shared]
    xs, ys, groups = [], [], []
    for c in clips:
        w = _windows(ds.clip(c)[:, 0], fps)
        xs += list(w)
        ys += [ds.labels[c]] * len(w)
        groups += [acts[c]] * len(w)
    x, y, g = np.array(xs), np.array(ys), np.array(groups)
    missing = [ds.label_names[i] for i in range(L) if not (y == i).any()]
    if missing:
        raise ValueError(f"no clip of {', '.join(missing)} is {WINDOW_S:g} s long: the emotion classifier "
                         f"reads {WINDOW_S:g}-s windows, so eval needs longer clips")
    predicted = np.full(len(y), -1)
    for a in shared:
        out = g == a
        if out.any() and (~out).any():
            predicted[out] = EmotionClassifier.fit(x[~out], y[~out], L).predict(x[out])
    per, balanced, pooled = _accuracy(predicted, y, L)
    return {"judge": EmotionClassifier.fit(x, y, L), "actions": shared, "windows": int(len(y)),
            "per_label": per, "windows_per_label": [int((y == i).sum()) for i in range(L)],
            "read_as": [read_as(predicted[y == i], ds.label_names) for i in range(L)],
            "accuracy_balanced": balanced, "accuracy_pooled": pooled}


def contexts(ds: MotionDataset, model) -> list[int]:
    """The held-out clips rollouts start from: the longest CONTEXTS, of different labels where it can."""
    held = sorted(ds.split(heldout=True) or ds.split(heldout=False), key=ds.clip_length, reverse=True)
    chosen, labels = [], set()
    for c in held:
        if ds.labels[c] not in labels and ds.clip_length(c) > model.config.context // 2:
            chosen.append(c)
            labels.add(ds.labels[c])
    return (chosen + [c for c in held if c not in chosen])[:CONTEXTS]


def asked(meta: dict, ds: MotionDataset, labels: np.ndarray) -> np.ndarray:
    """The emotion weights (N, the checkpoint's labels) asking for each of the dataset's `labels`
    (N,): a checkpoint may know more labels than the dataset (a character palette) in any order."""
    index = np.array([list(meta["labels"]).index(n) for n in ds.label_names])
    emotion = np.zeros((len(labels), len(meta["labels"])), dtype=np.float32)
    emotion[np.arange(len(labels)), index[labels]] = 1.0
    return emotion


def action_schedule(meta: dict, ds: MotionDataset, shared: list[str], frames: int) -> list[tuple[int, str]]:
    """What a rollout of `frames` asks its body to do, for a model that takes actions: each of the
    actions the real baseline is read on (`shared`) that the model knows, in turn, for a share of the
    rollout as large as that action's share of the real frames. The generated windows then show
    what the real ones show, as much of each; without actions asked, a model does what it pleases,
    and a body that glides where real ones walk is read as another emotion. [] for a model that
    takes no actions."""
    known = [a for a in shared if a in meta.get("actions", [])]
    if not known:
        return []
    real = np.array([sum(ds.clip_length(c) for c in range(ds.n_clips) if action(ds.clip_names[c]) == a)
                     for a in known], dtype=np.float64)
    starts = np.round(np.concatenate([[0], np.cumsum(real)[:-1]]) / real.sum() * frames).astype(int)
    return [(int(t), a) for t, a in zip(starts, known)]


@torch.inference_mode()
def rollouts(model, meta: dict, ds: MotionDataset, params: SamplingParams, frames: int, seed: int,
             held: list[int], progress=None, actions: list[tuple[int, str]] = ()) -> np.ndarray:
    """(1 + len(held), frames, L, DRAWS, J, 3): every label's rollouts from the rest pose and from
    each held-out clip in `held`, asked for `actions` (action_schedule)."""
    emotion = asked(meta, ds, np.repeat(np.arange(len(ds.label_names)), DRAWS))    # label-major
    L = len(ds.label_names)
    mean, std = np.asarray(meta["feature_mean"]), np.asarray(meta["feature_std"])
    out = []
    for k, clip in enumerate([None] + held):
        gen = SoloLive(model, meta, performers=len(emotion), seed=seed + k)
        if clip is not None:
            n = min(model.config.context, ds.clip_length(clip))
            gen.warm_up((ds.features[clip][:n, 0] - mean) / std, emotion)
        done = k * frames
        p = gen.rollout(emotion, frames, params, progress and (lambda t: progress(done + t)), actions)
        out.append(p.reshape(frames, L, DRAWS, *p.shape[2:]))
    return np.stack(out)


def evaluate(model, meta: dict, ds: MotionDataset, params: SamplingParams, minutes: float = 10.0,
             seed: int = 0, progress=None, actions: str = "real") -> dict:
    """`progress(done)` counts rollout frames: (1 + len(contexts(...))) × minutes of them. A model
    that takes actions is asked for the real baseline's (`actions` "real", `action_schedule`) or for
    none ("none": the daemon's start, where the body does as it pleases)."""
    labels, fps = ds.label_names, ds.fps
    missing = [n for n in labels if n not in meta["labels"]]
    if missing:
        raise ValueError(f"the checkpoint does not know the dataset's labels {missing} (it knows {meta['labels']})")
    L = len(labels)
    shortest = (SKIP_S + WINDOW_S) / 60
    if minutes < shortest:
        raise ValueError(f"eval needs rollouts of at least {shortest:.2f} minutes (the first {SKIP_S:g} s are left "
                         f"out, then one {WINDOW_S:g}-s window), got {minutes:g}")
    real = real_baseline(ds)
    judge, real_read = real.pop("judge"), real.pop("read_as")
    bones = median_bones([ds.clip(c)[:, 0] for c in range(ds.n_clips)])[1:]        # the real median, bone by bone

    held = contexts(ds, model)
    frames = int(minutes * 60 * fps)
    schedule = action_schedule(meta, ds, real["actions"], frames) if actions == "real" else []
    made = rollouts(model, meta, ds, params, frames, seed, held, progress, schedule)
    made = made[:, int(SKIP_S * fps):]                                            # (S, T, L, D, J, 3)

    per_label, predicted, truth = {}, [], []
    for i, name in enumerate(labels):
        streams = [made[s, :, i, d] for s in range(made.shape[0]) for d in range(DRAWS)]
        guess = np.concatenate([judge.predict(_windows(p, fps)) for p in streams])
        predicted.append(guess)
        truth.append(np.full(len(guess), i))
        generated = _mean([body_figures(p, fps, bones) for p in streams], [1.0] * len(streams))
        clips = [ds.clip(c)[:, 0] for c in range(ds.n_clips) if ds.labels[c] == i]
        real_body = _mean([body_figures(p, fps, bones) for p in clips], [len(p) for p in clips])
        acc, real_acc = float((guess == i).mean()), real["per_label"][i]
        per_label[name] = {
            "generated": {"accuracy": acc, "read_as": read_as(guess, labels), **generated},
            "real": {"accuracy": real_acc, "windows": real["windows_per_label"][i],
                     "read_as": real_read[i], **real_body},
            "accuracy_ratio": acc / real_acc if real_acc else float("nan"),
            **{f"{k}_ratio": generated[k] / real_body[k] for k in RATIOS if real_body[k] > 0},
        }
    _, balanced, pooled = _accuracy(np.concatenate(predicted), np.concatenate(truth), L)
    return {
        "sampler": vars(params), "minutes": minutes, "labels": labels,
        "starts": ["rest pose"] + [ds.clip_names[c] for c in held], "draws": DRAWS,
        "actions_asked": {a: round((end - t) / fps, 1) for (t, a), end in
                          zip(schedule, [t for t, _ in schedule[1:]] + [frames])},
        "window_s": WINDOW_S, "stride_s": STRIDE_S,
        "real_baseline": {"method": "leave-one-action-out", **real},
        "accuracy": {"generated_balanced": balanced, "generated_pooled": pooled,
                     "real_balanced": real["accuracy_balanced"], "real_pooled": real["accuracy_pooled"],
                     "ratio_balanced": balanced / real["accuracy_balanced"],
                     "ratio_pooled": pooled / real["accuracy_pooled"]},
        "diversity_m": float(np.mean([continuation_diversity(model, meta, ds, c, params, seed)
                                      for c in held])),
        "per_label": per_label,
    }


@torch.inference_mode()
def continuation_diversity(model, meta: dict, ds: MotionDataset, clip: int, params: SamplingParams, seed: int,
                           n: int = 8, seconds: float = 2.0) -> float:
    """Mean pairwise distance (m, per joint, root-relative) between n continuations of one context."""
    mean, std = np.asarray(meta["feature_mean"]), np.asarray(meta["feature_std"])
    ctx_len = min(model.config.context, ds.clip_length(clip) - 1)
    context = (ds.features[clip][:ctx_len, 0] - mean) / std
    emotion = asked(meta, ds, np.full(n, ds.labels[clip]))
    gen = SoloLive(model, meta, performers=n, seed=seed)
    gen.warm_up(context, emotion)
    out = gen.rollout(emotion, int(seconds * ds.fps), params)                  # (T, n, J, 3)
    local = np.stack([local_positions(out[:, k]) for k in range(n)], axis=1)  # (T, n, J, 3)
    d = np.linalg.norm(local[:, :, None] - local[:, None], axis=-1).mean(-1).mean(0)   # (n, n)
    return float(d[np.triu_indices(n, 1)].mean())
