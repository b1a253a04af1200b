"""Speed of the solo model per frame: incremental (rolling cache) against recomputing the whole
window, for several batch sizes, measured in one run so the numbers compare as ratios."""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np
import torch

from ..live import Condition
from ..sampling import SamplingParams
from .cpu import CpuStep
from .live import SoloLive


def _summary(times: list[float]) -> dict[str, float]:
    a = np.array(times) * 1e3
    return {"p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99))}


def _timed(fn: Callable[[], object], n: int, sync: Callable[[], None],
           before: Callable[[], object] = lambda: None) -> dict[str, float]:
    times = []
    for _ in range(n):
        before()
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return _summary(times)


def _live(gen: SoloLive, condition: Condition, n: int, sync: Callable[[], None],
          period: float = 1 / 30) -> dict[str, dict[str, float]]:
    """Steps a frame period apart, as the daemon makes them, alternately straight after the idle
    wait and after a rehearsal (`SoloLive.rehearse`); interleaved, so that the machine's
    drift touches both alike."""
    times: dict[str, list[float]] = {"cold": [], "rehearsed": []}
    for i in range(2 * n):
        gen.settle()
        time.sleep(period)
        if i % 2:
            gen.rehearse()
        sync()
        t = time.perf_counter()
        gen.step(condition)
        sync()
        times["rehearsed" if i % 2 else "cold"].append(time.perf_counter() - t)
    return {kind: _summary(t) for kind, t in times.items()}


@torch.inference_mode()
def bench(model, meta: dict, performers=(1, 8, 32), frames: int = 300, device: str = "cpu",
               params: SamplingParams = SamplingParams()) -> list[dict]:
    """Per batch size: the generator's step to a frame (model, sampler with its emotion scoring,
    trajectory) and the settling after it (recognised emotion, pace governor); the same step with
    classifier-free guidance (each performer stepped with and without its emotion in one batch;
    timed on these weights whatever they were trained for, as the cost is the same); the step at a
    live pace, cold and rehearsed; the model alone with its cache, and the model re-run over a full
    window."""
    model = model.to(device).eval()
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    context, n_feat = model.config.context, model.config.n_features
    rows = []
    for B in performers:
        gen = SoloLive(model, {**meta, "guidance": False}, performers=B)     # the plain pass
        emotion = np.full((B, len(gen.labels)), 1.0 / len(gen.labels), dtype=np.float32)
        condition = Condition(emotion, [params] * B)
        for _ in range(context + 16):          # fill the cache: steady state, window full
            gen.step(condition)
        step = _timed(lambda: gen.step(condition), frames, sync, before=gen.settle)
        guided = SoloLive(model, {**meta, "guidance": True}, performers=B)
        strong = Condition(emotion, [dataclasses.replace(params, intensity=2.0)] * B)
        for _ in range(context + 16):
            guided.step(strong)
        guided_step = _timed(lambda: guided.step(strong), frames, sync, before=guided.settle)
        settle = _timed(gen.settle, frames, sync, before=lambda: gen.step(condition))
        live = _live(gen, condition, max(30, frames // 2), sync)
        e = torch.as_tensor(emotion, device=device)
        x = torch.randn(B, n_feat, device=device)
        pace = torch.ones(B, device=device)
        cache = model.new_cache()
        for _ in range(context + 16):
            model.step(x, e, pace, cache)
        incremental = _timed(lambda: model.step(x, e, pace, cache), frames, sync)
        numpy_step = None                       # the CPU's live path (models.solo.cpu), same frames
        if str(device) == "cpu":
            fast, numpy_cache = CpuStep(model), model.new_cache()
            for _ in range(context + 16):
                fast.step(x, e, pace, numpy_cache)
            numpy_step = _timed(lambda: fast.step(x, e, pace, numpy_cache), frames, sync)
        window = torch.randn(B, context, n_feat, device=device)
        window_pace = pace[:, None].expand(-1, context)
        model(window, e, window_pace)
        full = _timed(lambda: model(window, e, window_pace), max(30, frames // 4), sync)
        rows.append({"device": str(device), "performers": B, "context": context, "step": step, "settle": settle,
                     "guided": guided_step, "guided_cost": guided_step["p50_ms"] / step["p50_ms"],
                     "live_cold": live["cold"], "live_rehearsed": live["rehearsed"],
                     "model_incremental": incremental, "model_full_window": full,
                     "speedup_p50": full["p50_ms"] / incremental["p50_ms"], "model_numpy": numpy_step,
                     "numpy_speedup": numpy_step and incremental["p50_ms"] / numpy_step["p50_ms"]})
    return rows
