"""Stick-figure animations of world positions: GIF through Pillow, MP4 through ffmpeg if present.

The camera, raised and turned a little, follows the dancers (the centre of their roots, eased) at
a fixed distance, so a figure fills most of the frame's height however far it travels; the floor
grid is fixed to the world, so the travel shows as the floor sliding by.
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
VIEW_HEIGHT_M = 2.4       # metres of the scene the frame's height shows: a 1.7 m dancer fills ~70 %
EASE = 0.15               # how quickly the camera catches up with the dancers, per frame


def _view(azimuth: float, elevation: float) -> np.ndarray:
    a, e = np.radians(azimuth), np.radians(elevation)
    yaw = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    pitch = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
    return pitch @ yaw


def follow(positions: np.ndarray) -> np.ndarray:
    """(T, P, J, 3) → (T, 3): the point the camera looks at each frame: the dancers' mean root on the
    floor, eased (a step does not jerk the view), at half a body's height."""
    roots = positions[:, :, 0].mean(1)
    centre = np.empty_like(roots)
    centre[0] = roots[0]
    for t in range(1, len(roots)):
        centre[t] = centre[t - 1] + EASE * (roots[t] - centre[t - 1])
    centre[:, 1] = 0.85

    return centre


def render_frames(positions: np.ndarray, parents: list[int], size: tuple[int, int] = (480, 360),
                  azimuth: float = 30.0, elevation: float = 15.0, caption: str = "") -> list[Image.Image]:
    """positions (T, P, J, 3) world metres, Y up → one RGB image per frame."""
    T, P, J, _ = positions.shape
    view = _view(azimuth, elevation)
    centres = follow(positions)
    spread = np.ptp(positions[:, :, 0, [0, 2]], axis=1).max() if P > 1 else 0.0   # dancers apart: widen
    scale = size[1] / max(VIEW_HEIGHT_M, (spread + 1.2) * size[1] / size[0])
    width = max(3, int(size[1] / 70))

    def project(p: np.ndarray, centre: np.ndarray) -> np.ndarray:
        q = (p - centre) @ view.T
        return np.stack([size[0] / 2 + q[..., 0] * scale, size[1] / 2 - q[..., 1] * scale], -1)

    frames = []
    for t in range(T):
        c = centres[t]
        img = Image.new("RGB", size, BACKGROUND)
        draw = ImageDraw.Draw(img)
        # the floor: lines every half metre, fixed to the world, around where the camera looks
        gx, gz = np.round(c[0] * 2) / 2, np.round(c[2] * 2) / 2
        for i in np.arange(-4, 4.01, 0.5):
            for a, b in (((gx + i, 0, gz - 4), (gx + i, 0, gz + 4)), ((gx - 4, 0, gz + i), (gx + 4, 0, gz + i))):
                pa, pb = project(np.array([a, b], dtype=float), c)
                draw.line([tuple(pa), tuple(pb)], fill=GRID, width=1)
        for k in range(P):
            shadow = positions[t, k].copy()
            shadow[:, 1] = 0          # a shadow on the floor gives depth at a glance
            sp, pts = project(shadow, c), project(positions[t, k], c)
            main, light = COLOURS[k % len(COLOURS)]
            for j, p in enumerate(parents):
                if p >= 0:
                    draw.line([tuple(sp[j]), tuple(sp[p])], fill=(40, 42, 48), width=width)
            for j, p in enumerate(parents):
                if p >= 0:
                    draw.line([tuple(pts[j]), tuple(pts[p])], fill=main, width=width)
            r = width * 0.45          # joint dots smaller than the bones are wide: the bones read
            for j in range(J):
                x, y = pts[j]
                draw.ellipse([x - r, y - r, x + r, y + r], fill=light)
            hx, hy = pts[min(4, J - 1)]
            draw.ellipse([hx - 2.2 * width, hy - 2.2 * width, hx + 2.2 * width, hy + 2.2 * width], fill=main)
        draw.text((8, 6), f"{caption}  {t:4d}".strip(), fill=(200, 200, 200))
        frames.append(img)
    return frames


def tile(clips: list[list[Image.Image]], columns: int) -> list[Image.Image]:
    """Clips of one length and frame size side by side, `columns` to a row, as one clip."""
    w, h = clips[0][0].size
    rows = -(-len(clips) // columns)
    out = []
    for t in range(len(clips[0])):
        img = Image.new("RGB", (columns * w, rows * h), BACKGROUND)
        for k, clip in enumerate(clips):
            img.paste(clip[t], ((k % columns) * w, (k // columns) * h))
        out.append(img)
    return out


def gif_durations(frames: int, fps: float) -> list[int]:
    """Per-frame GIF delays in milliseconds, multiples of 10 (the format's unit), that add up to the
    exact clip length: 30 fps is 30, 30, 40, 30, 30, 40 … ms, not 30 ms each (which plays 11 % fast)."""
    ends = [round((i + 1) * 100 / fps) * 10 for i in range(frames)]
    return [b - a for a, b in zip([0] + ends[:-1], ends)]


def write_animation(frames: list[Image.Image], out: str | Path, fps: float) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        frames[0].save(out, save_all=True, append_images=frames[1:], duration=gif_durations(len(frames), fps),
                       loop=0, optimize=False, disposal=1)
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
