"""The names a body is asked by: a model's emotion labels (and the words people use for them) and its actions."""
from __future__ import annotations

import numpy as np

SYNONYMS = {
    "joy": "happy", "happiness": "happy", "glad": "happy", "cheerful": "happy",
    "anger": "angry", "mad": "angry", "rage": "angry",
    "sadness": "sad", "sorrow": "sad", "unhappy": "sad",
    "neutral": "normal", "calm": "normal", "none": "normal",
    "pride": "proud", "confident": "proud",
    "insecure": "not-confident", "shy": "not-confident", "fear": "not-confident", "afraid": "not-confident",
    "unconfident": "not-confident", "not_confident": "not-confident", "notconfident": "not-confident",
    "tiredness": "tired", "exhausted": "tired", "sleepy": "tired", "bored": "tired",
}


def resolve(name: str, labels: list[str]) -> int:
    """Index of `name` in the model's labels, directly or through a common synonym."""
    key = name.strip().lower()
    if key in labels:
        return labels.index(key)
    mapped = SYNONYMS.get(key)
    if mapped in labels:
        return labels.index(mapped)
    raise ValueError(f"unknown emotion {name!r}; this model knows: {', '.join(labels)}")


def resolve_action(name: str, actions: list[str]) -> str | None:
    """The action `name` asks of a model that knows `actions`; None for "none", which every model takes."""
    key = name.strip().lower()
    if key == "none":
        return None
    if not actions:
        raise ValueError("this model was not trained on actions (train solo on Bandai's named clips)")
    if key not in actions:
        raise ValueError(f"unknown action {key[:40]!r}; this model knows none, {', '.join(actions)}")
    return key


def parse_emotion(text: str, labels: list[str]) -> np.ndarray:
    """'happy=0.7,sad=0.3' (or just 'happy') → weights over `labels`, summing to 1."""
    weights = np.zeros(len(labels), dtype=np.float32)
    for part in filter(None, (s.strip() for s in text.split(","))):
        name, _, value = part.partition("=")
        weights[resolve(name.strip(), labels)] += float(value) if value else 1.0
    if weights.sum() <= 0:
        raise ValueError(f"emotion {text!r} has no positive weight")
    return weights / weights.sum()
