"""The model families, by the `kind` their checkpoints carry. A family is a folder under models/
whose package (its `__init__`) holds what serving needs and nothing that trains:

    KIND      the kind its checkpoints carry
    Config    the network's config dataclass (checked by `Config.check()`)
    Model     the torch module, built from a Config
    check(base, meta, config)   what its checkpoint JSON needs beyond the shared fields
    make_live(model, meta, performers, seed, stage) -> models.live.Live

and beside it, imported only by the commands that use them, `training` (`Options`, `Task`),
`evaluate` (`evaluate`, `add_options`) and `bench` (`bench`). Adding a family is adding a folder and
a line here.
"""
from __future__ import annotations

import importlib
from types import ModuleType

FAMILIES = {"solo": "models.solo", "duet": "models.duet"}


def kinds() -> list[str]:
    return list(FAMILIES)


def family(kind: str) -> ModuleType:
    if kind not in FAMILIES:
        raise ValueError(f"unknown model kind {kind!r:.40}; known: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[kind])


def part(kind: str, name: str) -> ModuleType:
    """A family's `training`, `evaluate` or `bench` module."""
    return importlib.import_module(f"{FAMILIES[kind]}.{name}")
