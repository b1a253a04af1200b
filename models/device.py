"""Which torch device to run on: shared by serving, generating, evaluating and training."""
from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """'auto' is CUDA where there is one, else the CPU; anything else is taken as torch names it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
