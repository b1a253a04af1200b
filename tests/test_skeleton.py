import numpy as np
import pytest

from models import skeleton
from models.bvh import read_bvh


@pytest.fixture
def poses(bandai_bvh, salsa_pair):
    return [skeleton.from_bvh(read_bvh(bandai_bvh)), skeleton.from_bvh(read_bvh(salsa_pair[0]))]


def test_both_sources_map_to_the_canonical_skeleton(bandai_bvh, salsa_pair):
    assert skeleton.detect_source(read_bvh(bandai_bvh)) == "bandai"
    assert skeleton.detect_source(read_bvh(salsa_pair[0])) == "cmu"
    for path in (bandai_bvh, salsa_pair[0]):
        p = skeleton.from_bvh(read_bvh(path))
        assert p.shape[1:] == (21, 3) and p.dtype == np.float32
        i = skeleton.INDEX
        # head above pelvis above ankles, left side at +X when facing +Z
        assert (p[:, i["head"], 1] > p[:, i["pelvis"], 1]).all()
        assert (p[:, i["pelvis"], 1] > p[:, i["l_ankle"], 1]).all()
        left, up, fwd, _ = skeleton.body_frame(p)
        np.testing.assert_allclose(np.cross(left, up), fwd, atol=1e-5)


def test_mirror_pairs_swap_sides():
    m = skeleton.MIRROR
    assert skeleton.JOINTS[m[skeleton.INDEX["l_wrist"]]] == "r_wrist"
    assert skeleton.JOINTS[m[skeleton.INDEX["spine"]]] == "spine"
    assert (m[m] == np.arange(skeleton.J)).all()


@pytest.mark.parametrize("layout, count", [("mediapipe33", 33), ("coco17", 17), ("body25", 25), ("kinect25", 25)])
def test_layouts_round_trip(layout, count, poses):
    names = skeleton.layout_names(layout)
    assert len(names) == count == len(set(names))
    for p in poses:
        q = skeleton.to_layout(p, layout)
        assert q.shape == (len(p), count, 3)
        back = skeleton.from_layout(q, layout)
        err = np.linalg.norm(back - p, axis=-1).max(axis=0)
        # joints the layout carries come back exactly; derived ones (spine, collars, head, toes) within 15 cm
        for j, name in enumerate(skeleton.JOINTS):
            direct = {"l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
                      "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"}
            assert err[j] < (1e-5 if name in direct else 0.15), (layout, name, err[j])


def test_layout_specific_points(poses):
    p = poses[0]
    i = skeleton.INDEX
    body25 = skeleton.to_layout(p, "body25")
    names = skeleton.layout_names("body25")
    # BODY_25's Neck and MidHip are midpoints of the shoulders and the hips
    np.testing.assert_allclose(body25[:, names.index("MidHip")], (p[:, i["l_hip"]] + p[:, i["r_hip"]]) / 2, atol=1e-6)
    np.testing.assert_allclose(body25[:, names.index("Neck")], (p[:, i["l_shoulder"]] + p[:, i["r_shoulder"]]) / 2, atol=1e-6)
    # face points sit above the head joint, the nose in front of it
    mp = skeleton.to_layout(p, "mediapipe33")
    mpn = skeleton.layout_names("mediapipe33")
    _, up, fwd, _ = skeleton.body_frame(p)
    nose = mp[:, mpn.index("nose")] - p[:, i["head"]]
    assert ((nose * fwd).sum(-1) > 0.05).all() and ((nose * up).sum(-1) > 0.03).all()
    assert (np.linalg.norm(mp[:, mpn.index("l_ear")] - mp[:, mpn.index("r_ear")], axis=-1) > 0.08).all()


def test_unknown_layout_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown layout 'openpose18'; known: canonical"):
        skeleton.layout_names("openpose18")
