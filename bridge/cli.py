"""The `motionbridge` command line. Each command imports what it needs when it runs, so
`motionbridge --help` and the data commands start without loading torch."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

console = Console(stderr=True)
out = Console()


class CommandError(Exception):
    """An error the user can fix: printed as one line, exit status 2."""


def progress_bar(items: list, description: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        yield from progress.track(items, description=description)


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
    table.add_row("joint names", " ".join(summary["joint_names"]))
    out.print(table)


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
    p = data_cmds.add_parser("build", help="build a dataset file from bandai, cmu-salsa or a folder of BVH files")
    p.add_argument("source", help="bandai | cmu-salsa | FOLDER (label from each file name)")
    p.add_argument("--out", required=True, help="dataset .npz to write")
    p.add_argument("--fps", type=float, default=30.0, help="resample to this rate (default 30)")
    p.add_argument("--styles", help="bandai: comma-separated styles (default: the 7 emotion-like ones)")
    p.add_argument("--holdout", help="bandai: actions to hold out (default guide,byebye); salsa: takes (14,15)")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=console, show_time=False, show_path=False)])
    try:
        args.func(args)
    except KeyboardInterrupt:
        return 130
    except (CommandError, ValueError, RuntimeError, OSError) as e:
        console.print(f"[red]error:[/red] {e}", highlight=False)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
