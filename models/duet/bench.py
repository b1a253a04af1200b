"""Speed of the partner per frame: the live step (features, network, the guards, placing the body)
and the network alone, incremental (rolling caches and LSTM state) against recomputing the whole
window, and on a CPU its step in NumPy against torch, for 1 and 8 pairs; and a whole duet frame,
the soloist leading. One run, so the numbers compare."""
from __future__ import annotations

import numpy as np
import torch

from ..live import Condition
from ..sampling import SamplingParams
from ..solo.bench import _timed
from .cpu import CpuDuet
from .live import DuetLive, Partner
from .model import DuetModel


@torch.inference_mode()
def bench(model: DuetModel, meta: dict, pairs=(1, 8), frames: int = 300, device: str = "cpu",
          soloist_factory=None) -> list[dict]:
    """`soloist_factory(pairs, device)`: a solo live for the duet frame (None: not measured)."""
    model = model.to(device).eval()
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    c = model.config
    rows = []
    for B in pairs:
        partner = Partner(model, meta, B)
        rng = np.random.default_rng(0)
        lead = partner.rest[None].repeat(B, 0) + rng.normal(0, 0.01, (B,) + partner.rest.shape).astype(np.float32)
        for _ in range(c.window + 16):                 # steady state: the windows full
            partner.step(lead)
        moved = lambda: lead + rng.normal(0, 0.01, lead.shape).astype(np.float32)
        step = _timed(lambda: partner.step(moved()), frames, sync, before=partner.settle)
        settle = _timed(partner.settle, frames, sync, before=lambda: partner.step(moved()))
        x = torch.randn(B, 1, c.n_features, device=device)
        r = torch.randn(B, 1, c.n_relation, device=device)
        state = model.start(B)
        for _ in range(c.window + 16):
            model.step(x, x, r, state)
        incremental = _timed(lambda: model.step(x, x, r, state, 1.0), frames, sync)
        numpy = None
        if str(device) == "cpu":
            net = CpuDuet(model)
            state = net.start(B)
            for _ in range(c.window + 16):
                net.step(x, x, r, state)
            numpy = _timed(lambda: net.step(x, x, r, state, 1.0), frames, sync)
        xs = torch.randn(B, c.window, c.n_features, device=device)
        rs = torch.randn(B, c.window, c.n_relation, device=device)
        full = _timed(lambda: model(xs, xs, rs, noise=1.0, reconstruct=False), max(30, frames // 4), sync)
        row = {"device": str(device), "pairs": B, "window": c.window, "partner_step": step, "partner_settle": settle,
               "model_incremental": incremental, "model_full_window": full,
               "speedup_p50": full["p50_ms"] / incremental["p50_ms"]}
        if numpy is not None:
            row.update(model_numpy=numpy, numpy_speedup=incremental["p50_ms"] / numpy["p50_ms"])
        if soloist_factory is not None:
            live = DuetLive(model, meta, soloist_factory(B, device))
            L = len(live.labels)
            condition = Condition(np.full((B, L), 1.0 / L, dtype=np.float32), [SamplingParams()] * B, mode="duet")
            for _ in range(c.window + 16):
                live.step(condition)
            row["duet_frame"] = _timed(lambda: live.step(condition), frames, sync, before=live.settle)
        rows.append(row)
    return rows
