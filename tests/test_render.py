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


def test_fixed_camera_lets_the_figure_travel(bandai_bvh):
    p = skeleton.from_bvh(read_bvh(bandai_bvh))[:, None]
    frames = render_frames(p, skeleton.PARENTS, size=(240, 180))

    def centre(img):
        mask = np.all(np.asarray(img) == (235, 120, 60), axis=-1)
        return np.argwhere(mask).mean(0)
    # the dash moves the body across the picture; a chasing camera would keep it still
    assert np.linalg.norm(centre(frames[-1]) - centre(frames[0])) > 10
