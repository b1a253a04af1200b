"""Config dataclasses filled from outside (a TOML file, a checkpoint's JSON): every value of its
field's type, before any range is checked."""
from __future__ import annotations

import math
from dataclasses import fields


def check_types(config: object) -> None:
    """Raise ValueError naming the first field whose value is not of its default's type (an int
    passes for a float; a bool never passes for a number), or is a float that is not finite."""
    for f in fields(config):
        value, kind = getattr(config, f.name), type(f.default)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = (kind is float and number) or (kind is int and number and isinstance(value, int)) or \
             (kind not in (int, float) and isinstance(value, kind))
        if not ok:
            wanted = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}.get(kind, kind.__name__)
            raise ValueError(f"{f.name} must be {wanted}, got {value!r:.40}")
        if kind is float and not math.isfinite(value):
            raise ValueError(f"{f.name} must be finite, got {value}")
