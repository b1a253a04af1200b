"""The live parameters, each declared once: its valid range, its knob (the range and curve a MIDI
control sweeps by default), its scope (each performer's own, or the whole show's) and what it does.

The OSC protocol checks values against `range`, the MIDI map takes `knob` and `curve` from here,
the engine reads and writes them by name, the status and the dashboard list them, and the
README's table is `markdown()` (a test keeps the two the same).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    name: str                              # also its OSC address: /<name>, /performer/<n>/<name>
    range: tuple[float, float]             # what OSC, a mapping file and a config may set
    knob: tuple[float, float] | None       # what a MIDI control sweeps by default (None: not on a knob)
    curve: str                             # linear | exponential: how a knob's travel maps onto `knob`
    scope: str                             # performer (each its own; plain /<name> sets all) | show (one for all)
    meaning: str
    default: float | None = None           # a show value the engine keeps itself (others: SamplingParams, config)


PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("variance", (1e-3, 1e3), (0.5, 20.0), "exponential", "performer",
          "variance divisor: sigma of the sampled pose is divided by it"),
    Param("temperature", (1e-3, 10.0), (0.2, 2.0), "exponential", "performer",
          "softens the choice of mixture component and scales sigma"),
    Param("k", (0.0, 10.0), (0.0, 4.0), "linear", "performer", "the emotion sampler's noise penalty"),
    Param("emotion_weight", (0.0, 10.0), (0.0, 4.0), "linear", "performer",
          "how strongly the emotion sampler favours frames that read as the emotion asked"),
    Param("hold", (0.0, 20.0), (0.0, 8.0), "linear", "performer",
          "how firmly the body keeps the movement it is in (0 lets it change course every frame: jitter)"),
    Param("energy", (0.0, 5.0), (0.25, 4.0), "exponential", "performer",
          "how much the body moves: 1 is the typical pace of the emotion danced, 2 twice that"),
    Param("intensity", (0.0, 10.0), (0.0, 4.0), "linear", "performer",
          "classifier-free guidance: 1 the emotion as trained, 0 none of it, 2 (the default) as "
          "clear as real motion, 3 and up a caricature (models trained with guidance)"),
    Param("glide", (0.0, 60.0), (0.0, 5.0), "linear", "performer", "seconds an emotion change takes (0: at once)"),
    Param("mix", (0.0, 1.0), (0.0, 1.0), "linear", "show", "crossfade from preset A (/emotion/a) to B (/emotion/b)"),
    Param("fps", (1.0, 240.0), None, "linear", "show", "frames a second"),
    Param("pose_cutoff", (0.01, 30.0), (0.1, 10.0), "exponential", "show",
          "partner mode: the tracked pose's smoothing at rest, in Hz (lower: steadier, more lag)", 1.0),
    Param("pose_beta", (0.0, 50.0), (0.0, 5.0), "linear", "show",
          "partner mode: how much faster moves are followed with less smoothing (0: the same for all)", 0.5),
)}


def markdown() -> str:
    """The README's table of live parameters."""
    rows = ["| parameter | range | scope | MIDI knob (default) | what it does |", "|---|---|---|---|---|"]
    for p in PARAMS.values():
        knob = f"{p.knob[0]:g}–{p.knob[1]:g}, {p.curve}" if p.knob else "–"
        scope = "each performer" if p.scope == "performer" else "the whole show"
        rows.append(f"| `/{p.name}` | {p.range[0]:g}–{p.range[1]:g} | {scope} | {knob} | {p.meaning} |")
    return "\n".join(rows) + "\n"
