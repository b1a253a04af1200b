"""The `motionbridge` command line: thin commands over `models/` and `bridge/`."""
from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from bridge import logqueue

console = Console(stderr=True)
out = Console()


def show(table: Table) -> None:
    """A table on stdout. On a terminal rich fits it to the width; to a pipe or a file it is
    printed as wide as it needs, so that no number is cut to "60.…"."""
    if out.is_terminal:
        out.print(table)
    else:
        from rich.measure import Measurement
        needed = Measurement.get(out, out.options.update(max_width=1000), table).maximum
        Console(width=max(out.width, needed), no_color=True).print(table)


class CommandError(Exception):
    """An error the user can fix: printed as one line, exit status 2."""


def progress_bar(items: list, description: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        yield from progress.track(items, description=description)


class _progress:
    """A rich progress bar on a terminal (nothing otherwise); `with _progress(...) as advance:`."""

    def __init__(self, description: str, total: int):
        from rich.progress import Progress
        self.progress = Progress(console=console, transient=True, disable=not console.is_terminal)
        self.task = self.progress.add_task(description, total=total)

    def __enter__(self):
        self.progress.__enter__()
        return lambda n: self.progress.update(self.task, completed=n)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


# ---- data --------------------------------------------------------------------------------------

def cmd_data_bvh2npy(args: argparse.Namespace) -> None:
    from models.bvh import read_bvh
    from models.io import save_npy
    bvh = read_bvh(args.file)
    target = Path(args.out or Path(args.file).with_suffix(".npy"))
    save_npy(target, bvh.positions(), bvh.joint_names, bvh.joint_parents(), bvh.fps, source=str(args.file))
    console.print(f"wrote {target} ({bvh.motion.shape[0]} frames, {len(bvh.joint_names)} joints, "
                  f"{bvh.fps:g} fps) and {target.with_suffix('.json')}")


def cmd_data_build(args: argparse.Namespace) -> None:
    from models import dataset
    options = {}
    if args.styles:
        options["styles"] = args.styles.split(",")
    if args.holdout:
        options["holdout"] = args.holdout.split(",")
    start = time.perf_counter()
    ds = dataset.build(args.source, fps=args.fps, progress=progress_bar, **options)
    ds.save(args.out)
    size = Path(args.out).stat().st_size
    console.print(f"wrote {args.out}: {ds.n_clips} clips ({len(ds.split(True))} held out), "
                  f"{ds.positions.shape[0]} frames × {ds.n_performers} performer(s) at {ds.fps:g} fps, "
                  f"{size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")


def inspect_summary(path: Path) -> dict:
    from models import skeleton
    from models.bvh import read_bvh
    from models.dataset import MotionDataset
    if path.suffix.lower() == ".bvh":
        bvh = read_bvh(path)
        free = {i for i, n in enumerate(bvh.names) if n in bvh.free_joints()}
        frames = int(bvh.motion.shape[0])
        return {"file": str(path), "kind": "bvh", "frames": frames, "fps": bvh.fps, "duration_s": frames / bvh.fps,
                "joints": len(bvh.joint_names), "joint_names": bvh.joint_names, "metres_per_unit": bvh.unit_scale(),
                "bone_length": skeleton.bone_stability(bvh.positions(include_ends=True), bvh.parents, free)}
    if path.suffix in (".json", ".safetensors") or (path.is_dir() and any(path.glob("*.safetensors"))):
        return checkpoint_summary(path)
    ds = MotionDataset.load(path)
    stab = [skeleton.bone_stability(ds.clip(c)[:, k], skeleton.PARENTS)["max_rel_std"]
            for c in range(ds.n_clips) for k in range(ds.n_performers)]
    frames = int(ds.positions.shape[0])
    return {"file": str(path), "kind": "dataset", "source": ds.source, "clips": ds.n_clips,
            "heldout_clips": len(ds.split(True)), "performers": ds.n_performers, "frames": frames, "fps": ds.fps,
            "duration_s": frames / ds.fps, "joints": len(skeleton.JOINTS), "joint_names": skeleton.JOINTS,
            "labels": ds.label_counts(),
            "heldout_labels": {n: int(((ds.labels == i) & ds.heldout).sum()) for i, n in enumerate(ds.label_names)},
            "bone_length": {"max_rel_std": max(stab), "median_rel_std": sorted(stab)[len(stab) // 2]}}


def checkpoint_summary(path: Path) -> dict:
    """What `data inspect` says of a checkpoint: its family, labels, size, and how it was made."""
    from models import checkpoint
    model, meta = checkpoint.load(path)
    made = meta.get("data", {})
    return {"file": str(checkpoint.locate(path)), "kind": f"{meta['kind']} checkpoint", "labels": ", ".join(meta["labels"]),
            "parameters": model.n_params(), "fps": meta.get("fps", 30.0), "step": meta.get("step", 0),
            "trained on": made.get("source", "?") if isinstance(made, dict) else str(made),
            "command": meta.get("command", "?"), "device": meta.get("device", "?"),
            "torch": meta.get("torch", "?"), "git commit": meta.get("git_commit", "?"), "wall time s": meta.get("wall_s", "?")}


def cmd_data_inspect(args: argparse.Namespace) -> None:
    summary = inspect_summary(Path(args.file))
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(title=str(args.file), show_header=False)
    for key, value in summary.items():
        if key in ("file", "joint_names"):
            continue
        if isinstance(value, float):
            value = f"{value:.3f}"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v:.2e}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        table.add_row(key, str(value))
    if "joint_names" in summary:
        table.add_row("joint names", " ".join(summary["joint_names"]))
    show(table)


def cmd_data_render(args: argparse.Namespace) -> None:
    from models.io import load_motion
    from models.render import render_frames, write_animation
    m = load_motion(args.file, args.clip)
    p = m.positions
    if args.seconds:
        p = p[: int(args.seconds * m.fps)]
    frames = render_frames(p, m.parents, size=(args.width, args.height), caption=m.title)
    write_animation(frames, args.out, m.fps)
    console.print(f"wrote {args.out} ({len(frames)} frames at {m.fps:g} fps)")


# ---- training ----------------------------------------------------------------------------------

def add_dataclass_args(parser: argparse.ArgumentParser, cls, title: str, suppress: bool = False) -> None:
    """One flag per config field (--batch-size for batch_size), defaults from the dataclass.
    With suppress, flags not given are absent from the namespace (so a config file can fill them)."""
    import dataclasses
    group = parser.add_argument_group(title)
    comments = field_comments(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        kind = (lambda s: s.lower() in ("1", "true", "yes", "on")) if isinstance(default, bool) else type(default)
        bare = {"nargs": "?", "const": f.metadata["bare"]} if "bare" in f.metadata else {}   # --web alone
        # written out here, since argparse shows no default that it does not hold (suppress)
        shown = str(default).replace("%", "%%") if suppress else "%(default)s"
        text = f"{comments.get(f.name, '').replace('%', '%%')} (default {shown})".strip()
        group.add_argument(flag, type=kind, default=argparse.SUPPRESS if suppress else default,
                           metavar="BOOL" if isinstance(default, bool) else None, help=text, **bare)


def field_comments(cls) -> dict[str, str]:
    """The comment beside each field of a config dataclass: its --help text, written once."""
    import inspect
    import re
    found = {}
    for line in inspect.getsource(cls).splitlines():
        m = re.match(r"\s+(\w+)\s*:[^#]*#\s*(.+)", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def dataclass_from_args(cls, args: argparse.Namespace):
    import dataclasses
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def load_dataset(source: str):
    """A dataset file, or a source name / BVH folder built in memory."""
    from models import dataset
    if source.endswith(".npz"):
        return dataset.MotionDataset.load(source), Path(source)
    return dataset.build(source, progress=progress_bar), None


def cmd_train(args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from models import families
    from models.train import TrainConfig, data_hash, plot_curves, train
    family, training = families.family(args.kind), families.part(args.kind, "training")
    ds, path = load_dataset(args.data)
    tc = dataclass_from_args(TrainConfig, args)
    task = training.Task(ds, dataclass_from_args(family.Config, args), dataclass_from_args(training.Options, args),
                         init=tc.init)
    meta = {"command": "motionbridge " + shlex.join(args.argv),
            "seed": tc.seed, "data": {"source": ds.source, "file": str(path) if path else args.data,
                                      "sha256": data_hash(ds),
                                      "clips": ds.n_clips, "frames": int(ds.positions.shape[0])}}
    with Progress(TextColumn(f"train {args.kind}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[status]}"), TimeRemainingColumn(), console=console,
                  disable=not console.is_terminal) as progress:
        bar = progress.add_task("train", total=tc.steps, status="")

        def on_step(step: int, record: dict) -> None:
            status = f"loss {record['loss']:.3f} " + " ".join(
                f"{k} {record[k]:.4f}" for k in record if k in ("mse", "mdn", "kl", "w_mdn", "w_kl"))
            progress.update(bar, completed=step, status=status)
            if "val" in record and not console.is_terminal:
                console.print(f"step {step}: {status} | val " + " ".join(f"{k} {v:.4f}" for k, v in record["val"].items()))
        metrics = train(task, tc, args.out, meta, resume=args.resume, on_step=on_step)
    out = Path(args.out).with_suffix("")
    history = [json.loads(line) for line in out.with_suffix(".log.jsonl").read_text().splitlines()]
    plot_curves(history, out.with_suffix(".curve.png"), task.curves)
    console.print(f"wrote {out}.safetensors, {out}.json and the training curve {out}.curve.png")
    console.print(" ".join(f"{k}={v:.4f}" for k, v in metrics.items()))


# ---- generate, eval, bench ---------------------------------------------------------------------

def load_model(path: str | None, kind: str, device: str = "auto"):
    """A checkpoint of family `kind` (default: the shipped one), on `device`."""
    from models import checkpoint
    from models.device import pick_device
    model, meta = checkpoint.load(path or checkpoint.default_checkpoint(kind), pick_device(device))
    if meta["kind"] != kind:
        raise CommandError(f"{path} is a {meta['kind']} model; this command takes a {kind} model")
    return model, meta


def cmd_generate_solo(args: argparse.Namespace) -> None:
    from models import skeleton
    from models.emotions import parse_emotion, resolve_action
    from models.io import save_npy
    from models.sampling import SamplingParams
    from models.solo import make_live
    model, meta = load_model(args.checkpoint, "solo", args.device)
    out = Path(args.out)
    every = args.emotion.strip().lower() == "all"      # every label, side by side
    if every and out.suffix == ".npy":
        raise CommandError("--emotion all draws every label side by side: write a .gif or .mp4")
    weights = np.eye(len(meta["labels"]), dtype=np.float32) if every else parse_emotion(args.emotion, meta["labels"])[None]
    params = dataclass_from_args(SamplingParams, args)
    gen = make_live(model, meta, performers=len(weights), seed=args.seed)
    try:
        action = resolve_action(args.action, gen.actions)
    except ValueError as e:
        raise CommandError(f"--action: {e}") from None
    frames = int(args.seconds * gen.fps)
    with _progress("generate", frames) as advance:
        p = gen.rollout(weights, frames, params, advance, [(0, action)])
    if every:
        from models.render import render_frames, tile, write_animation
        clips = [render_frames(p[:, [k]], skeleton.PARENTS, size=(200, 250), caption=name)
                 for k, name in enumerate(meta["labels"])]
        write_animation(tile(clips, columns=min(4, len(clips))), out, gen.fps)
        console.print(f"wrote {out}: every label of {len(clips)} side by side, {frames} frames ({args.seconds:g} s)")
        return
    p, weights = p[:, 0], weights[0]
    asked = {name: round(float(w), 4) for name, w in zip(meta["labels"], weights) if w > 0}
    if out.suffix == ".npy":
        save_npy(out, p, skeleton.JOINTS, skeleton.PARENTS, gen.fps, emotion=asked, action=action,
                 sampler=vars(params), seed=args.seed, checkpoint=str(args.checkpoint or "default"))
    else:
        from models.render import render_frames, write_animation
        caption = " ".join(f"{k} {v:.2f}" for k, v in asked.items()) + (f", {action}" if action else "")
        write_animation(render_frames(p[:, None], skeleton.PARENTS, caption=caption), out, gen.fps)
    console.print(f"wrote {out}: {frames} frames ({args.seconds:g} s at {gen.fps:g} fps), emotion {asked}"
                  + (f", action {action}" if action else ""))


def cmd_eval_solo(args: argparse.Namespace) -> None:
    from models.sampling import SamplingParams
    from models.solo.evaluate import contexts, evaluate
    model, meta = load_model(args.checkpoint, "solo", args.device)
    ds, _ = load_dataset(args.data)
    params = dataclass_from_args(SamplingParams, args)
    frames = int(args.minutes * 60 * ds.fps) * (1 + len(contexts(ds, model)))
    with _progress(f"{args.minutes:g}-minute rollouts", frames) as advance:
        result = evaluate(model, meta, ds, params, args.minutes, args.seed, advance, args.actions)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        show_eval_solo(result)


def show_eval_solo(result: dict) -> None:
    """`eval solo`'s result as a person reads it: a row per label, generated beside real."""
    from models.solo.evaluate import BODY
    table = Table(title=f"solo model, {result['minutes']:g}-minute rollouts per label from {len(result['starts'])} "
                        f"starts × {result['draws']} (sampler {result['sampler']['sampler']}): generated / real")
    units = {"limb_speed": "{:.2f} m/s", "arm_speed": "{:.2f} m/s", "leg_speed": "{:.2f} m/s",
             "travel": "{:.2f} m/s", "hand_height": "{:+.2f} m", "trunk_lean": "{:.0f}°", "cadence": "{:.2f}/s",
             "foot_skating": "{:.2f} m/s", "jerk": "{:.0f}", "bone_error": "{:.1%}", "frozen": "{:.1%}"}
    table.add_column("label")
    for col in ("emotion read", "mostly read as") + BODY:
        table.add_column(col.replace("_", " "), justify="right")
    top = lambda read: next((f"{k} {v:.2f}" for k, v in read.items()), "–")
    for name, r in result["per_label"].items():
        g, real = r["generated"], r["real"]
        table.add_row(name, f"{g['accuracy']:.2f} / {real['accuracy']:.2f}", f"{top(g['read_as'])} / {top(real['read_as'])}",
                      *(f"{units[k].format(g[k])} / {units[k].format(real[k])}" for k in BODY))
    show(table)
    acc = result["accuracy"]
    out.print(f"emotion read, label-balanced: generated {acc['generated_balanced']:.2f}, real (leave-one-action-out) "
              f"{acc['real_balanced']:.2f}, ratio {acc['ratio_balanced']:.2f}; pooled {acc['generated_pooled']:.2f} / "
              f"{acc['real_pooled']:.2f}, ratio {acc['ratio_pooled']:.2f}; diversity {result['diversity_m']:.3f} m")


def _bench_devices(threads: int) -> list[str]:
    """The devices a bench measures, CPU first, with torch on `threads` CPU threads (0: its choice)."""
    import torch
    if threads:
        torch.set_num_threads(threads)
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _show_timings(title: str, rows: list[dict], columns: list[tuple[str, str]]) -> None:
    """Bench rows as a table, one column per (header, key): a key `name.p50_ms` is a timing in ms,
    `speedup_p50`, `guided_cost` and `numpy_speedup` ratios, a missing one "–", anything else as it is."""
    import torch
    table = Table(title=f"{title}, {torch.get_num_threads()} CPU threads")
    for header, _ in columns:
        table.add_column(header, justify="right")

    def cell(r: dict, key: str) -> str:
        name, _, stat = key.partition(".")
        if r[name] is None:
            return "–"
        if stat:
            return f"{r[name][stat]:.2f} ms"
        return f"{r[key]:.1f}×" if key in ("speedup_p50", "guided_cost", "numpy_speedup") else str(r[key])
    for r in rows:
        table.add_row(*(cell(r, key) for _, key in columns))
    show(table)


def cmd_bench_solo(args: argparse.Namespace) -> None:
    from models.sampling import SamplingParams
    from models.solo.bench import bench
    devices = _bench_devices(args.threads)
    model, meta = load_model(args.checkpoint, "solo", "cpu")
    performers = [int(n) for n in args.performers.split(",")]
    rows = []
    for device in devices:
        rows += bench(model, meta, performers, args.frames, device, dataclass_from_args(SamplingParams, args))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    _show_timings(f"solo step latency, {args.frames} frames, context {rows[0]['context']}", rows, [
        ("device", "device"), ("performers", "performers"), ("step p50", "step.p50_ms"), ("step p99", "step.p99_ms"),
        ("guided p50", "guided.p50_ms"), ("guided p99", "guided.p99_ms"), ("guided cost", "guided_cost"),
        ("settle p50", "settle.p50_ms"), ("live cold p50", "live_cold.p50_ms"),
        ("live rehearsed p50", "live_rehearsed.p50_ms"), ("model inc. p50", "model_incremental.p50_ms"),
        ("full window p50", "model_full_window.p50_ms"), ("speed-up", "speedup_p50"),
        ("model in NumPy p50", "model_numpy.p50_ms"), ("NumPy speed-up", "numpy_speedup")])


def _lead(spec: str, seconds: float, fps: float, seed: int, device: str) -> tuple[np.ndarray, str]:
    """The lead a duet is generated for: FILE (.bvh, .npy), salsa:TAKE, or solo:EMOTION."""
    from models.io import load_dancer
    if spec.startswith("solo:"):
        from models.emotions import parse_emotion
        from models.sampling import SamplingParams
        from models.solo import make_live
        model, meta = load_model(None, "solo", device)
        weights = parse_emotion(spec[5:], meta["labels"])
        soloist = make_live(model, meta, performers=1, seed=seed, stage=3.0)
        return soloist.rollout(weights[None], int(seconds * fps), SamplingParams())[:, 0], f"the soloist ({spec[5:]})"
    try:
        lead, title = load_dancer(spec, fps)
    except (OSError, ValueError) as e:
        raise CommandError(f"--lead {spec}: {e}") from None
    return (lead[:int(seconds * fps)] if seconds else lead), title


def cmd_generate_duet(args: argparse.Namespace) -> None:
    from models import skeleton
    from models.duet.evaluate import rollout
    from models.io import save_npy
    model, meta = load_model(args.checkpoint, "duet", args.device)
    fps = float(meta["fps"])
    lead, title = _lead(args.lead, args.seconds, fps, args.seed, args.device)
    with _progress("partner", len(lead)) as advance:
        partner = rollout(model, meta, lead[:, None], args.noise, args.seed, progress=advance)[0][:, 0]
    pair = np.stack([lead, partner], axis=1)                     # (T, 2, J, 3): lead, partner
    out = Path(args.out)
    if out.suffix == ".npy":
        save_npy(out, pair, skeleton.JOINTS, skeleton.PARENTS, fps, dancers=["lead", "partner"], lead=args.lead,
                 noise=args.noise, seed=args.seed, checkpoint=str(args.checkpoint or "default"))
    else:
        from models.render import render_frames, write_animation
        write_animation(render_frames(pair, skeleton.PARENTS, caption=f"partner for {title}"), out, fps)
    console.print(f"wrote {out}: {len(pair)} frames ({len(pair) / fps:.1f} s at {fps:g} fps), lead {title}")


def cmd_eval_duet(args: argparse.Namespace) -> None:
    from models.duet.evaluate import evaluate
    model, meta = load_model(args.checkpoint, "duet", args.device)
    ds, _ = load_dataset(args.data)
    frames = int(args.minutes * 60 * ds.fps)
    with _progress(f"{args.minutes:g}-minute rollouts", frames) as advance:
        result = evaluate(model, meta, ds, args.minutes, args.noise, args.seed, advance)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    takes = result["takes"]
    table = Table(title=f"duet partner on held-out salsa takes, {args.minutes:g}-minute rollouts (noise {args.noise:g})")
    table.add_column("measure")
    for name in takes:
        table.add_column(f"{name}: partner", justify="right")
        table.add_column("real", justify="right")
    rows = [("hip distance, mean m", "hip_distance_m", "hip_distance_m_real", "{:.2f}"),
            ("hip distance KS (≤ 0.2)", "hip_distance_ks", None, "{:.2f}"),
            ("interpenetration", "interpenetration", "interpenetration_real", "{:.1%}"),
            ("foot skating m/s", "foot_skating", "foot_skating_real", "{:.2f}"),
            ("bone error", "bone_error", "bone_error_real", "{:.1%}"),
            ("speed ratio, last minute", "speed_ratio", None, "{:.2f}"),
            ("limb speed ratio", "limb_speed_ratio", None, "{:.2f}"),
            ("response lag s (≥ 0)", "response_lag_s", "response_lag_s_real", "{:+.2f}"),
            ("faces the lead (cos)", "facing", "facing_real", "{:.2f}"),
            ("reach guard acted", "reach_guard", None, "{:.0%}"),
            ("lead travels: hip KS", "travel_ks", None, "{:.2f}"),
            ("... ignoring it: model", "travel_ks_ignoring", "travel_ks_real_ignoring", "{:.2f}")]
    for label, key, real, fmt in rows:
        cells = []
        for t in takes.values():
            cells += [fmt.format(t[key]), fmt.format(t[real]) if real else ""]
        table.add_row(label, *cells)
    show(table)
    h = Table(title="partner root relative to the lead: error (m) after a 2-s rollout from real history "
                    "(beside: a follower that keeps its place)")
    for col in ("distance apart", "rollouts", "0.5 s", "1 s", "2 s"):
        h.add_column(col, justify="right")
    for name, r in result["horizons"].items():
        h.add_row(name, str(r["rollouts"]), *(f"{r[f'{s}s']:.2f} / {r[f'{s}s_hold']:.2f}" for s in ("0.5", "1", "2")))
    show(h)


def cmd_bench_duet(args: argparse.Namespace) -> None:
    from models.duet.bench import bench
    from models.solo import make_live
    devices = _bench_devices(args.threads)
    model, meta = load_model(args.checkpoint, "duet", "cpu")
    solo, solo_meta = load_model(None, "solo", "cpu")
    rows = []
    for device in devices:
        soloist = lambda B, d: make_live(solo.to(d), solo_meta, performers=B)    # noqa: E731
        rows += bench(model, meta, [int(n) for n in args.pairs.split(",")], args.frames, device, soloist)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    _show_timings(f"partner step latency, {args.frames} frames, window {rows[0]['window']}", rows, [
        ("device", "device"), ("pairs", "pairs"), ("partner step p50", "partner_step.p50_ms"),
        ("p99", "partner_step.p99_ms"), ("settle p50", "partner_settle.p50_ms"),
        ("model inc. p50", "model_incremental.p50_ms"), ("full window p50", "model_full_window.p50_ms"),
        ("speed-up", "speedup_p50"), ("model in NumPy p50", "model_numpy.p50_ms"), ("NumPy speed-up", "numpy_speedup"),
        ("duet frame p50", "duet_frame.p50_ms"), ("p99", "duet_frame.p99_ms")])


def cmd_replay(args: argparse.Namespace) -> None:
    import threading
    from bridge.replay import Replay, ReplayConfig, send
    config = dataclass_from_args(ReplayConfig, args)
    try:
        config.check()
        lead, title = _lead(args.file, 0.0, config.fps, config.seed, "cpu")
    except ValueError as e:
        raise CommandError(str(e)) from None
    host, _, port = args.to.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--to {args.to}: expected HOST:PORT")
    replay = Replay(lead, config)
    console.print(f"replaying {title} to {args.to} as a {config.layout} tracker "
                  f"({'2-D image' if config.image else '3-D metres'}), {len(replay)} frames")
    stop = threading.Event()
    try:
        with _progress("replay", len(replay)) as advance:
            send(replay, (host, int(port)), stop, progress=advance)
    except KeyboardInterrupt:
        stop.set()


# ---- serve, monitor ---------------------------------------------------------------------------

def serve_config(args: argparse.Namespace):
    """Defaults, then the TOML file, then the flags given on the command line."""
    import dataclasses
    from bridge.daemon import ServeConfig
    values = {}
    if args.config:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        try:
            values = tomllib.loads(Path(args.config).read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise CommandError(f"{args.config}: {e}") from None
        known = {f.name for f in dataclasses.fields(ServeConfig)}
        unknown = set(values) - known
        if unknown:
            raise CommandError(f"{args.config}: unknown settings {', '.join(sorted(unknown))}")
    for f in dataclasses.fields(ServeConfig):
        if hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    return ServeConfig(**values)


FATAL_EXIT = 3        # the watchdog stopped the daemon: a service manager should restart it
FATAL_GRACE_S = 5.0   # ... and if the main thread cannot finish by then (a blocked terminal), exit anyway


def _exit_soon(reason: str) -> None:
    """Called by the watchdog: make sure the process ends with FATAL_EXIT even if the main thread
    is stuck writing to a terminal or pipe that nobody reads."""
    import os
    import threading

    def last_resort() -> None:
        time.sleep(FATAL_GRACE_S)
        os._exit(FATAL_EXIT)
    threading.Thread(target=last_resort, name="exit", daemon=True).start()


def cmd_serve(args: argparse.Namespace) -> int:
    import signal
    from bridge import dashboard
    from bridge.daemon import create
    import torch
    config = serve_config(args)
    daemon = create(config, on_fatal=_exit_soon)
    # one thread steps a few dancers as fast as two, with a steadier p99 (bench solo), and leaves
    # the other cores to the OSC thread and the system
    torch.set_num_threads(config.threads or (1 if config.performers <= 8 else torch.get_num_threads()))
    stop = daemon.stop_event
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    daemon.start()
    console.print(f"motionbridge: {daemon.model_name} on {daemon.device}; listening on OSC "
                  f"{config.host}:{daemon.address[1]}, sending {config.fps:g} fps to {config.out_host}:{config.out_port}")
    if daemon.web is not None:
        console.print(f"web view: open {daemon.web.url} in a browser")
    live = config.dashboard == "on" or (config.dashboard == "auto" and out.is_terminal)
    try:
        if live:
            from rich.live import Live
            with Live(get_renderable=lambda: dashboard.render(daemon.snapshot, out.size.height, out.size.width), console=out,
                      refresh_per_second=4, screen=False, redirect_stderr=False):
                while not stop.wait(0.25):
                    pass
        else:
            while not stop.wait(5.0):
                console.print(dashboard.status_line(daemon.snapshot), highlight=False)
    except KeyboardInterrupt:
        pass
    finally:
        daemon.stop()
        console.print(f"stopped after {daemon.stats.frames} frames")
    if daemon.fatal:
        console.print(f"[red]error:[/red] {daemon.fatal}; exiting with status {FATAL_EXIT}", highlight=False)
        return FATAL_EXIT
    return 0


MONITOR_WAIT_S = 5.0    # how long monitor waits for the daemon to answer


def cmd_monitor(args: argparse.Namespace) -> None:
    import socket
    from rich.live import Live
    from bridge import dashboard
    from bridge.client import Client
    host, _, port = args.target.rpartition(":")
    if not host and not port.isdigit():           # `monitor localhost`: a host, on the default port
        host, port = port, "7700"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"monitor: {args.target!r} is not HOST:PORT (the daemon's OSC input, e.g. 127.0.0.1:7700)")
    console.print(f"asking {host or '127.0.0.1'}:{port} for its status…")
    try:
        bridge = Client(host or "127.0.0.1", int(port), args.listen, timeout=args.timeout)
    except socket.gaierror:
        raise CommandError(f"monitor: cannot resolve host {host!r}") from None
    except TimeoutError as e:
        raise CommandError(f"monitor: {e}") from None
    with bridge, Live(get_renderable=lambda: dashboard.render(bridge.snapshot, out.size.height, out.size.width),
                      console=out, refresh_per_second=4):
        try:
            while True:
                bridge.poll(0.25)             # frames come too, into a short queue nobody reads
        except KeyboardInterrupt:
            pass


def cmd_bench_serve(args: argparse.Namespace) -> None:
    from bridge.bench import bench_serve
    rows = []
    for performers in [int(n) for n in args.performers.split(",")]:
        # the same show alone, under a flood, with browser pages open: compare the rows
        for flood, pages in [(0, 0)] + [(args.flood, 0)] * bool(args.flood) + [(0, args.pages)] * bool(args.pages):
            extra = " under flood" if flood else f" with {pages} web pages" if pages else ""
            console.print(f"measuring {performers} performer(s){extra} for {args.seconds:g} s…")
            rows.append(bench_serve(performers, args.seconds, args.fps, flood, pages=pages))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"serve: {args.seconds:g} s per row at {args.fps:g} fps, measured by a separate receiver")
    for col in ("performers", "flood/s", "pages", "page fps", "fps", "% of target", "jitter p50", "jitter p99",
                "change→frame p50", "p99", "max", "daemon step p50", "p99", "lead"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["performers"]), str(r["flood_per_s"]), str(r["pages"]),
                      f"{r['page_fps_min']:.1f}" if r["page_fps_min"] is not None else "–", f"{r['fps_delivered']:.2f}", f"{r['fps_ratio']:.2%}",
                      *(f"{r[k]:.2f}" for k in ("jitter_p50_ms", "jitter_p99_ms")),
                      *(f"{r[k]:.1f}" for k in ("change_to_frame_p50_ms", "change_to_frame_p99_ms", "change_to_frame_max_ms")),
                      *(f"{r[k]:.2f}" if r[k] is not None else "–" for k in ("daemon_step_p50_ms", "daemon_step_p99_ms", "daemon_lead_ms")))
    show(table)
    out.print(f"times in ms; target: change→frame ≤ one period + 3 ms = {1000 / args.fps + 3:.1f} ms")


def cmd_bench_fuzz(args: argparse.Namespace) -> int:
    from bridge.bench import bench_fuzz
    console.print(f"firing {args.packets:,} hostile datagrams at {args.rate:g}/s from {args.ports} ports "
                  f"(about {args.packets / args.rate:.0f} s)…")
    r = bench_fuzz(args.packets, args.rate, args.ports, args.fps, args.seed)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        table = Table(title=f"fuzz: {r['sent']:,} of {r['packets']:,} datagrams sent at {r['rate']:g}/s from "
                            f"{r['ports']} ports in {r['seconds']:.0f} s", show_header=False)
        rows = [
            ("frames delivered / expected", f"{r['frames']:,} / {r['frames_expected']:,} ({r['fps_ratio']:.2%} of "
                                            f"{r['fps_target']:g} fps)"),
            ("missed, failed frames (daemon)", f"{r['missed_frames']}, {r['failed_frames']}"),
            ("longest frame gap", f"{r['max_gap_ms']:.1f} ms"),
            ("jitter p50 / p99", f"{r['jitter_p50_ms']:.2f} / {r['jitter_p99_ms']:.2f} ms"),
            ("performer's change → frame", f"p50 {r['change_to_frame_p50_ms']:.1f}, p99 {r['change_to_frame_p99_ms']:.1f}, "
                                           f"max {r['change_to_frame_max_ms']:.1f} ms; {r['changes']} landed, "
                                           f"{r['changes_lost']} lost (target: one period + 3 ms = "
                                           f"{r['frame_period_ms'] + 3:.1f} ms)"),
            ("RSS before → after", f"{r['rss_before_mb']:.1f} → {r['rss_after_mb']:.1f} MB ({r['rss_growth_mb']:+.1f})"),
            ("dropped by the kernel (full buffer, barred senders)",
             f"{r['kernel_drops']:,}; senders barred at the end: {r['barred']}"),
            ("counted by the daemon", ", ".join(f"{k} {v:,}" for k, v in sorted(r["errors"].items())) or "nothing"),
            ("threads", ", ".join(f"{k} {v}" for k, v in r["threads"].items()) or "no answer"),
        ]
        for row in rows:
            table.add_row(*row)
        show(table)
    if not r["threads_alive"]:
        console.print("[red]a thread was lost, or the daemon stopped answering[/red]")
        return 1
    return 0


def cmd_record(args: argparse.Namespace) -> None:
    import signal
    import threading
    from bridge.record import Recorder, run
    from models import checkpoint
    labels = args.labels.split(",") if args.labels else checkpoint.read_meta(checkpoint.default_checkpoint("solo"))["labels"]
    recorder = Recorder(labels, Path(args.out), args.fps, args.pose_layout, args.pose_space)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"recording /pose on {args.host}:{args.port} into {args.out} at {args.fps:g} fps; "
                  f"labels {', '.join(labels)}; Ctrl-C to finish")

    def report(rec: Recorder, frames: int) -> None:
        if not console.is_terminal:
            return
        console.print(f"{frames} frames in {len(rec.clips)} clips, label {rec.labels[rec.label]}, "
                      f"{rec.errors} bad messages", end="\r", highlight=False)
    try:
        run(recorder, args.host, args.port, stop, report)
    except KeyboardInterrupt:
        stop.set()
    console.print(f"\nwrote {args.out}: {recorder.written_frames} frames in {len(recorder.clips)} clips")


# ---- midi --------------------------------------------------------------------------------------

def cmd_midi_list(args: argparse.Namespace) -> None:
    from bridge.control import load_midi_map
    try:
        import mido
        names = mido.get_input_names()
        out.print("MIDI inputs: " + (", ".join(names) if names else "none"))
    except (ImportError, OSError, RuntimeError) as e:
        out.print(f"MIDI: unavailable ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
    table = Table(title=f"mapping: {args.map}")
    for col in ("parameter", "control", "channel", "port", "range", "curve", "takeover"):
        table.add_column(col)
    for m in load_midi_map(args.map).mappings:
        control = f"CC {m.cc}" if m.cc is not None else f"note {m.note}"
        rng = f"{m.min:g}–{m.max:g}" if m.continuous else "trigger"
        table.add_row(m.param, control, str(m.channel or "any"), m.port or "any", rng, m.curve, m.takeover)
    show(table)


def cmd_midi_learn(args: argparse.Namespace) -> None:
    import threading
    from bridge.control import learned_path, load_midi_map
    from bridge.midi import MidiInputs
    midi_map = load_midi_map(args.map)
    midi_map.learn(args.param)
    done = threading.Event()

    def on_event(e) -> None:
        midi_map.handle(*e, current={})
        if midi_map.learned is not None:
            done.set()
    inputs = MidiInputs(args.port, on_event, virtual="")
    inputs.start()
    if inputs.status.startswith("unavailable"):
        raise CommandError(f"MIDI {inputs.status}")
    console.print(f"move the control for {args.param} (listening on {inputs.status})…")
    try:
        if not done.wait(args.timeout):
            raise CommandError(f"no control moved in {args.timeout:g} s")
    finally:
        inputs.close()
    target = learned_path(args.map)
    target.parent.mkdir(parents=True, exist_ok=True)
    midi_map.save(target)
    m = midi_map.learned
    console.print(f"{args.param} ← {'CC ' + str(m.cc) if m.cc is not None else 'note ' + str(m.note)} "
                  f"channel {m.channel} on {m.port}; saved {target}")


def cmd_midi_forward(args: argparse.Namespace) -> None:
    import signal
    import socket
    import threading
    from bridge import osc
    from bridge.midi import MidiInputs
    host, _, port = args.to.rpartition(":")
    target = (host or "127.0.0.1", int(port))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = [0]

    def forward(e) -> None:
        _, kind, channel, number, value = e
        sock.sendto(osc.message(f"/midi/{kind}", channel, number, value), target)
        sent[0] += 1
    inputs = MidiInputs(args.port, forward, virtual="" if args.no_virtual else "motionbridge-forward")
    inputs.start()
    if inputs.status.startswith("unavailable"):
        raise CommandError(f"MIDI {inputs.status}")
    console.print(f"forwarding MIDI from {inputs.status} to {target[0]}:{target[1]} as /midi/cc and /midi/note")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        inputs.close()
    console.print(f"forwarded {sent[0]} messages")


# ---- parser ------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionbridge", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="convert, build, inspect and render motion data")
    data_cmds = data.add_subparsers(dest="data_command", required=True)
    p = data_cmds.add_parser("bvh2npy", help="BVH → [T, J, 3] float32 world positions in metres + JSON sidecar")
    p.add_argument("file")
    p.add_argument("--out", help="output .npy (default: beside the BVH)")
    p.set_defaults(func=cmd_data_bvh2npy)
    p = data_cmds.add_parser("build", help="build a dataset file from bandai, bandai2, cmu-salsa or a folder of BVH files")
    p.add_argument("source", help="bandai | bandai2 | cmu-salsa | FOLDER (label from each file name); "
                                   "several joined by + are merged (bandai+bandai2)")
    p.add_argument("--out", required=True, help="dataset .npz to write")
    p.add_argument("--fps", type=float, default=30.0, help="resample to this rate (default 30)")
    p.add_argument("--styles", help="bandai, bandai2: comma-separated styles, or all (default: bandai's 7 "
                                    "emotion-like ones; all 7 of bandai2's)")
    p.add_argument("--holdout", help="bandai, bandai2: actions to hold out (default guide,byebye; wave-left-hand); "
                                     "salsa: takes (14,15)")
    p.set_defaults(func=cmd_data_build)
    p = data_cmds.add_parser("inspect", help="frames, fps, joints, labels, bone-length stability")
    p.add_argument("file", help="a .bvh or a dataset .npz")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_data_inspect)
    p = data_cmds.add_parser("render", help="stick-figure animation (.gif, .mp4 with ffmpeg, .png still)")
    p.add_argument("file", help="a .bvh, a dataset .npz or a .npy")
    p.add_argument("--clip", type=int, default=0, help="dataset clip index")
    p.add_argument("--out", required=True)
    p.add_argument("--seconds", type=float, help="only the first N seconds")
    p.add_argument("--width", type=int, default=480)
    p.add_argument("--height", type=int, default=360)
    p.set_defaults(func=cmd_data_render)
    train = commands.add_parser("train", help="train a model on a dataset")
    train_cmds = train.add_subparsers(dest="kind", required=True)
    from models import families
    from models.train import TrainConfig
    for kind in families.kinds():
        family, training = families.family(kind), families.part(kind, "training")
        p = train_cmds.add_parser(kind, help=family.__doc__.split("\n")[0],
                                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.add_argument("--data", default=training.DATA, help="dataset .npz, or bandai | cmu-salsa | BVH folder")
        p.add_argument("--out", default=f"runs/{kind}", help="checkpoint path (writes .safetensors and .json)")
        p.add_argument("--resume", action="store_true", help="continue from --out's .train.pt")
        add_dataclass_args(p, family.Config, "model")
        add_dataclass_args(p, training.Options, f"{kind} training")
        add_dataclass_args(p, TrainConfig, "training")
        p.set_defaults(func=cmd_train)

    from models.sampling import SamplingParams
    generate = commands.add_parser("generate", help="write a generated clip (.npy or .gif)")
    generate_cmds = generate.add_subparsers(dest="generate_command", required=True)
    p = generate_cmds.add_parser(
        "solo", help="one dancer with the emotion you ask for", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="checkpoint (default: the shipped model)")
    p.add_argument("--emotion", default="normal", help="label=weight,... e.g. happy=0.7,sad=0.3; all: every "
                                                      "label side by side (.gif, .mp4)")
    p.add_argument("--action", default="none", help="what the body is asked to do (walk, bow…: the model's "
                   "actions); none: as it pleases")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--out", required=True, help=".npy (positions + JSON sidecar), .gif or .mp4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    add_dataclass_args(p, SamplingParams, "sampling")
    p.set_defaults(func=cmd_generate_solo)
    p = generate_cmds.add_parser(
        "duet", help="a partner for a lead: a file, a salsa take or the soloist; [T, 2, J, 3] (lead, partner)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="duet checkpoint (default: the shipped model)")
    p.add_argument("--lead", required=True, help="FILE.bvh|FILE.npy, salsa:TAKE[:follow], or solo:EMOTION (e.g. solo:happy)")
    p.add_argument("--seconds", type=float, default=20.0, help="length (a file's lead: at most this; 0: all of it)")
    p.add_argument("--noise", type=float, default=1.0, help="the partner's latent noise (1: as trained)")
    p.add_argument("--out", required=True, help=".npy (positions + JSON sidecar), .gif or .mp4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_generate_duet)

    evaluate = commands.add_parser("eval", help="measure motion quality on held-out real data")
    eval_cmds = evaluate.add_subparsers(dest="eval_command", required=True)
    p = eval_cmds.add_parser(
        "solo", help="emotion, liveliness, smoothness, form, diversity", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="checkpoint (default: the shipped model)")
    p.add_argument("--data", default="bandai", help="dataset .npz or source the checkpoint was trained on")
    p.add_argument("--minutes", type=float, default=10.0, help="rollout length per label")
    p.add_argument("--actions", choices=("real", "none"), default="real",
                   help="what a model trained on actions is asked to do: the real baseline's actions, each for "
                        "its share of the real frames; or none, as the daemon starts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    add_dataclass_args(p, SamplingParams, "sampling")
    p.set_defaults(func=cmd_eval_solo)
    p = eval_cmds.add_parser(
        "duet", help="the partner against the real follower: placement, distance, contact, form, speed, response",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="duet checkpoint (default: the shipped model)")
    p.add_argument("--data", default="cmu-salsa", help="dataset .npz or source the checkpoint was trained on")
    p.add_argument("--minutes", type=float, default=10.0, help="long rollout per held-out take")
    p.add_argument("--noise", type=float, default=1.0, help="the partner's latent noise (1: as trained)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_duet)

    bench = commands.add_parser("bench", help="speed benchmarks that print numbers to compare")
    bench_cmds = bench.add_subparsers(dest="bench_command", required=True)
    p = bench_cmds.add_parser(
        "solo", help="per-frame latency: incremental vs full window, 1/8/32 performers, CPU and CUDA",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="checkpoint (default: the shipped model)")
    p.add_argument("--performers", default="1,8,32")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's choice)")
    p.add_argument("--json", action="store_true")
    add_dataclass_args(p, SamplingParams, "sampling")
    p.set_defaults(func=cmd_bench_solo)
    p = bench_cmds.add_parser(
        "duet", help="partner step latency: incremental vs full window, 1 and 8 pairs, CPU and CUDA",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="duet checkpoint (default: the shipped model)")
    p.add_argument("--pairs", default="1,8")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (0: torch's choice; serve uses 1 up to 8 pairs)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench_duet)
    p = bench_cmds.add_parser("serve", help="delivered fps, jitter and change-to-frame latency of a running daemon",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--performers", default="1,8")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--flood", type=int, default=10_000, help="hostile datagrams a second from one port, in a second run (0: none)")
    p.add_argument("--pages", type=int, default=4, help="browser pages reading the web view (serve --web), in a third run (0: none)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench_serve)
    p = bench_cmds.add_parser("fuzz", help="a daemon under malformed and hostile datagrams from many ports",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--packets", type=int, default=1_000_000)
    p.add_argument("--rate", type=float, default=2000, help="datagrams a second, all ports together")
    p.add_argument("--ports", type=int, default=16, help="source ports the datagrams come from")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench_fuzz)

    from bridge.daemon import ServeConfig
    p = commands.add_parser("serve", help="run the daemon: OSC in, motion out", description=
                            "Run the daemon. Settings: defaults, then --config FILE.toml (same names, "
                            "snake_case), then flags.")
    p.add_argument("--config", help="TOML file of settings")
    add_dataclass_args(p, ServeConfig, "settings", suppress=True)
    p.set_defaults(func=cmd_serve)
    from bridge.replay import ReplayConfig
    p = commands.add_parser("replay", help="send a BVH, .npy or salsa take to a daemon as a tracker would (/pose)",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("file", help="FILE.bvh|FILE.npy, or salsa:TAKE[:follow]")
    p.add_argument("--to", default="127.0.0.1:7700", help="the daemon, HOST:PORT")
    add_dataclass_args(p, ReplayConfig, "tracker")
    p.set_defaults(func=cmd_replay)
    p = commands.add_parser("monitor", help="the dashboard of a daemon running elsewhere")
    p.add_argument("target", nargs="?", default="127.0.0.1:7700", help="HOST:PORT of the daemon's OSC input")
    p.add_argument("--listen", type=int, default=0, help="local port for status messages (0: any)")
    p.add_argument("--timeout", type=float, default=MONITOR_WAIT_S, help="seconds to wait for a first status")
    p.set_defaults(func=cmd_monitor)
    midi = commands.add_parser("midi", help="MIDI ports, mappings, learn, and forwarding to a daemon elsewhere")
    midi_cmds = midi.add_subparsers(dest="midi_command", required=True)
    p = midi_cmds.add_parser("list", help="MIDI input ports and the mapping")
    p.add_argument("--map", default="nanokontrol2", help="nanokontrol2 | modwheel | FILE.toml")
    p.set_defaults(func=cmd_midi_list)
    p = midi_cmds.add_parser("learn", help="bind the next control that moves to PARAM and save the mapping")
    p.add_argument("param", help="variance, temperature, glide, mix, k, emotion_weight, hold, energy, emotion/<label>, "
                                 "reset, sampler/<name>, preset/a, preset/b")
    p.add_argument("--map", default="motionbridge-midi.toml", help="mapping file to extend and save")
    p.add_argument("--port", default="auto", help="input port name substring (default: every input)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.set_defaults(func=cmd_midi_learn)
    p = midi_cmds.add_parser("forward", help="send a local MIDI input to a daemon over OSC")
    p.add_argument("--to", required=True, help="HOST:PORT of the daemon's OSC input")
    p.add_argument("--port", default="auto", help="input port name substring (default: every input)")
    p.add_argument("--no-virtual", action="store_true", help="do not open a virtual input port")
    p.set_defaults(func=cmd_midi_forward)

    from models import skeleton
    p = commands.add_parser("record", help="record incoming /pose with emotion labels into a dataset",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="dataset .npz (rewritten atomically every second)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7710)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--labels", help="comma-separated labels (default: the shipped solo model's)")
    p.add_argument("--pose-layout", default="mediapipe33", choices=list(skeleton.LAYOUTS))
    p.add_argument("--pose-space", default="normalised", choices=["normalised", "metres"])
    p.set_defaults(func=cmd_record)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv
    # every log call only queues its record; one thread writes them (see bridge.logqueue)
    logs = logqueue.install([RichHandler(console=console, show_time=False, show_path=False)],
                            logging.DEBUG if args.verbose else logging.INFO)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except (CommandError, ValueError, RuntimeError, OSError) as e:
        console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)   # one line, however long
        return 2
    finally:
        logs.stop()


if __name__ == "__main__":
    sys.exit(main())
