import numpy as np
from PIL import Image

from models import skeleton
from models.bvh import read_bvh
from models.render import render_frames, write_animation


def test_gif_of_a_duet_in_two_colours(salsa_pair, tmp_path):
    p = np.stack([skeleton.from_bvh(read_bvh(f))[::8] for f in salsa_pair], axis=1)
    frames = render_frames(p, skeleton.PARENTS, size=(240, 180))
    out = tmp_path / "duet.gif"
    write_animation(frames, out, fps=15)
    gif = Image.open(out)
    assert gif.n_frames == len(p) == 15
    colours = {c for _, c in frames[0].getcolors(100000)}
    assert (235, 120, 60) in colours and (70, 150, 235) in colours


def test_the_camera_follows_a_travelling_dancer_who_fills_the_frame(bandai_bvh):
    p = skeleton.from_bvh(read_bvh(bandai_bvh))[::4, None]
    assert np.ptp(p[:, 0, 0, [0, 2]], axis=0).max() > 1.5         # the clip travels more than 1.5 m
    frames = render_frames(p, skeleton.PARENTS, size=(240, 180))
    for img in frames:
        mask = np.all(np.asarray(img) == (235, 120, 60), axis=-1)
        rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
        assert rows[-1] - rows[0] >= 0.4 * 180                     # at least 40 % of the frame's height
        assert rows[0] > 0 and rows[-1] < 179 and cols[0] > 0 and cols[-1] < 239   # never cut by the edge


def test_a_30_fps_gif_plays_at_30_fps(tmp_path):
    p = np.zeros((45, 1, 21, 3))
    p[..., 1] = np.linspace(0, 1.7, 21)
    out = tmp_path / "still.gif"
    write_animation(render_frames(p, skeleton.PARENTS, size=(64, 48)), out, fps=30)
    gif = Image.open(out)
    total = 0
    for i in range(gif.n_frames):
        gif.seek(i)
        total += gif.info["duration"]
    assert gif.n_frames == 45 and total == 1500                   # 1.5 s, to the millisecond
