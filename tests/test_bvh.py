import numpy as np
import pytest

from models import skeleton
from models.bvh import BvhError, parse_bvh, read_bvh

TWO_JOINTS = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
  JOINT arm
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 10 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.5
1 2 3 0 0 0 90 0 0
0 0 0 90 0 0 0 0 0
"""


def test_rotations_follow_channel_order_and_position_channels_translate():
    b = parse_bvh(TWO_JOINTS)
    assert b.fps == 2.0 and b.joint_names == ["root", "arm"]
    p = b.positions(include_ends=True, scale=1.0)
    np.testing.assert_allclose(p[0, 0], [1, 2, 3], atol=1e-9)
    np.testing.assert_allclose(p[0, 1], [1, 12, 3], atol=1e-9)
    # frame 0: arm rotates 90° about Z, so its end site points along -X
    np.testing.assert_allclose(p[0, 2], [-9, 12, 3], atol=1e-9)
    # frame 1: the root's 90° yaw leaves the vertical arm vertical
    np.testing.assert_allclose(p[1, 2], [0, 20, 0], atol=1e-9)


@pytest.mark.parametrize("fixture", ["bandai_bvh", "salsa_pair"])
def test_bone_lengths_constant_on_real_files(fixture, request):
    paths = request.getfixturevalue(fixture)
    for path in paths if isinstance(paths, tuple) else [paths]:
        b = read_bvh(path)
        free = {i for i, n in enumerate(b.names) if n in b.free_joints()}
        stab = skeleton.bone_stability(b.positions(include_ends=True), b.parents, free)
        assert stab["bones"] >= 20
        assert stab["max_rel_std"] < 1e-3


def test_units_become_metres(bandai_bvh, salsa_pair):
    bandai = read_bvh(bandai_bvh)
    salsa = read_bvh(salsa_pair[0])
    assert bandai.unit_scale() == 0.01 and salsa.unit_scale() == 1.0
    assert salsa.fps == 120.0
    for b in (bandai, salsa):
        height = np.ptp(b.positions()[0, :, 1])
        assert 1.0 < height < 2.0


def test_thousands_of_frames_convert_fast(salsa_pair):
    import time
    text = salsa_pair[0].read_text()
    head, _, body = text.partition("MOTION")
    lines = body.strip().splitlines()
    frames = lines[2:] * 17  # 2,040 frames of 43 joints
    b = parse_bvh(head + f"MOTION\nFrames: {len(frames)}\nFrame Time: 0.008333\n" + "\n".join(frames))
    start = time.thread_time()          # this thread's CPU time: other work on the machine does not count
    p = b.positions()
    # generous: the point is "vectorised", which runs in ~0.1 s; a per-frame loop takes many seconds
    assert time.thread_time() - start < 5.0
    assert p.shape == (2040, 43, 3)


def _break(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text
    return text.replace(old, new, count)


@pytest.mark.parametrize("mutate, message", [
    (lambda t: "", "empty file"),
    (lambda t: "hello world\n", "not a BVH file"),
    (lambda t: t[: t.index("0 0 0 90 0 0 0 0 0")], "truncated"),
    (lambda t: _break(t, "1 2 3 0 0 0 90 0 0", "1 2 3 0 0 0 90 0"), "has 8 values"),
    (lambda t: _break(t, "1 2 3 0 0 0 90 0 0", "1 2 x 0 0 0 90 0 0"), "non-numeric value 'x'"),
    (lambda t: _break(t, "1 2 3 0 0 0 90 0 0", "1 2 nan 0 0 0 90 0 0"), "NaN"),
    (lambda t: _break(t, "CHANNELS 3", "CHANNELS 4"), "CHANNELS 4"),
    (lambda t: _break(t, "Zrotation Xrotation", "Wrotation Xrotation"), "unknown channel"),
    (lambda t: t[: t.index("MOTION")], "file ends"),
])
def test_malformed_files_name_file_and_line(mutate, message, tmp_path):
    path = tmp_path / "bad.bvh"
    path.write_text(mutate(TWO_JOINTS))
    with pytest.raises(BvhError) as err:
        read_bvh(path)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}:")


def test_binary_file_is_not_bvh(tmp_path):
    path = tmp_path / "x.bvh"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(BvhError, match="not a BVH"):
        read_bvh(path)
