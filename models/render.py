"""Stick-figure animations of world positions: GIF through Pillow, MP4 through ffmpeg if present.

A fixed camera, raised and turned a little, frames the whole clip once, so the figure travels
across a still ground grid instead of the view chasing it.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

COLOURS = [((235, 120, 60), (250, 175, 120)), ((70, 150, 235), (140, 195, 250)), ((110, 200, 120), (170, 230, 170))]
BACKGROUND = (24, 26, 30)
GRID = (58, 62, 70)


def _view(azimuth: float, elevation: float) -> np.ndarray:
    a, e = np.radians(azimuth), np.radians(elevation)
    yaw = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    pitch = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
    return pitch @ yaw


def render_frames(positions: np.ndarray, parents: list[int], size: tuple[int, int] = (480, 360),
                  azimuth: float = 30.0, elevation: float = 18.0, caption: str = "") -> list[Image.Image]:
    """positions (T, P, J, 3) world metres, Y up → one RGB image per frame."""
    T, P, J, _ = positions.shape
    view = _view(azimuth, elevation)
    lo, hi = positions.reshape(-1, 3).min(0), positions.reshape(-1, 3).max(0)
    pad = 0.5
    xs = np.arange(np.floor(lo[0] - pad), np.ceil(hi[0] + pad) + 1e-9, 0.5)
    zs = np.arange(np.floor(lo[2] - pad), np.ceil(hi[2] + pad) + 1e-9, 0.5)
    grid = [((x, 0, zs[0]), (x, 0, zs[-1])) for x in xs] + [((xs[0], 0, z), (xs[-1], 0, z)) for z in zs]
    grid_pts = np.array(grid).reshape(-1, 3)
    # frame the body and its ground, not the whole grid, so a short clip is not a speck
    body = positions.reshape(-1, 3) @ view.T
    cx, cy = (body[:, 0].min() + body[:, 0].max()) / 2, (body[:, 1].min() + body[:, 1].max()) / 2
    half = max(np.ptp(body[:, 0]) * size[1] / size[0], np.ptp(body[:, 1]), 1.0) / 2 * 1.25
    scale = size[1] / (2 * half)

    def project(p: np.ndarray) -> np.ndarray:
        q = p @ view.T
        return np.stack([size[0] / 2 + (q[..., 0] - cx) * scale, size[1] / 2 - (q[..., 1] - cy) * scale], -1)

    grid_2d = project(grid_pts).reshape(-1, 2, 2)
    pts = project(positions)
    frames = []
    width = max(2, int(size[1] / 120))
    for t in range(T):
        img = Image.new("RGB", size, BACKGROUND)
        draw = ImageDraw.Draw(img)
        for (a, b) in grid_2d:
            draw.line([tuple(a), tuple(b)], fill=GRID, width=1)
        for k in range(P):
            # shadow on the ground gives depth at a glance
            shadow = positions[t, k].copy()
            shadow[:, 1] = 0
            sp = project(shadow)
            for j, p in enumerate(parents):
                if p >= 0:
                    draw.line([tuple(sp[j]), tuple(sp[p])], fill=(40, 42, 48), width=width)
            main, light = COLOURS[k % len(COLOURS)]
            for j, p in enumerate(parents):
                if p >= 0:
                    draw.line([tuple(pts[t, k, j]), tuple(pts[t, k, p])], fill=main, width=width)
            for j in range(J):
                x, y = pts[t, k, j]
                draw.ellipse([x - width, y - width, x + width, y + width], fill=light)
        draw.text((8, 6), f"{caption}  {t:4d}".strip(), fill=(200, 200, 200))
        frames.append(img)
    return frames


def write_animation(frames: list[Image.Image], out: str | Path, fps: float) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        # GIF delays are in 10 ms steps: 30 fps plays at 1/0.03 = 33 fps, close enough by eye
        frames[0].save(out, save_all=True, append_images=frames[1:], duration=int(round(1000 / fps)),
                       loop=0, optimize=False)
    elif out.suffix.lower() == ".mp4":
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise RuntimeError("no MP4 writer: install ffmpeg, or write a .gif")
        w, h = frames[0].size
        cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
               "-r", f"{fps}", "-i", "-", "-pix_fmt", "yuv420p", "-vcodec", "libx264", str(out)]
        data = b"".join(f.tobytes() for f in frames)
        subprocess.run(cmd, input=data, check=True)
    elif out.suffix.lower() == ".png":
        frames[len(frames) // 2].save(out)
    else:
        raise ValueError(f"{out}: write .gif, .mp4 or .png")
