"""The canonical body skeleton, and how the mocap sources and live trackers map onto it.

Both models work on one 21-joint skeleton. Mocap sources are mapped joint by joint; tracker
layouts (MediaPipe Pose 33, COCO-17, OpenPose BODY_25, Kinect v2 25) map both ways, and points
one side lacks are derived from the points it has (see the tables in the README).

All functions work on arrays shaped (..., J, 3), Y up, metres.
"""
from __future__ import annotations

import numpy as np

from .bvh import Bvh

JOINTS: list[str] = [
    "pelvis", "spine", "chest", "neck", "head",
    "l_collar", "l_shoulder", "l_elbow", "l_wrist",
    "r_collar", "r_shoulder", "r_elbow", "r_wrist",
    "l_hip", "l_knee", "l_ankle", "l_toe",
    "r_hip", "r_knee", "r_ankle", "r_toe",
]
PARENTS: list[int] = [-1, 0, 1, 2, 3, 2, 5, 6, 7, 2, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19]
INDEX = {name: i for i, name in enumerate(JOINTS)}
J = len(JOINTS)


def mirror_pairs(names: list[str]) -> np.ndarray:
    """Index permutation that swaps left and right joints (l_/r_ prefixes)."""
    swap = {"l_": "r_", "r_": "l_"}
    lookup = {n: i for i, n in enumerate(names)}
    return np.array([lookup.get(swap.get(n[:2], "") + n[2:], i) for i, n in enumerate(names)])


MIRROR = mirror_pairs(JOINTS)

# Source joint for every canonical joint ("<joint>_end" is a BVH End Site).
SOURCES: dict[str, dict[str, str]] = {
    "bandai": {
        "pelvis": "Hips", "spine": "Spine", "chest": "Chest", "neck": "Neck", "head": "Head",
        "l_collar": "Shoulder_L", "l_shoulder": "UpperArm_L", "l_elbow": "LowerArm_L", "l_wrist": "Hand_L",
        "r_collar": "Shoulder_R", "r_shoulder": "UpperArm_R", "r_elbow": "LowerArm_R", "r_wrist": "Hand_R",
        "l_hip": "UpperLeg_L", "l_knee": "LowerLeg_L", "l_ankle": "Foot_L", "l_toe": "Toes_L",
        "r_hip": "UpperLeg_R", "r_knee": "LowerLeg_R", "r_ankle": "Foot_R", "r_toe": "Toes_R",
    },
    # CMU has no toe joint: the foot's End Site lies at the ball of the foot.
    "cmu": {
        "pelvis": "hip", "spine": "abdomen", "chest": "chest", "neck": "neck", "head": "head",
        "l_collar": "lCollar", "l_shoulder": "lShldr", "l_elbow": "lForeArm", "l_wrist": "lHand",
        "r_collar": "rCollar", "r_shoulder": "rShldr", "r_elbow": "rForeArm", "r_wrist": "rHand",
        "l_hip": "lThigh", "l_knee": "lShin", "l_ankle": "lFoot", "l_toe": "lFoot_end",
        "r_hip": "rThigh", "r_knee": "rShin", "r_ankle": "rFoot", "r_toe": "rFoot_end",
    },
}


def detect_source(bvh: Bvh) -> str:
    names = set(bvh.names)
    for source, mapping in SOURCES.items():
        if set(mapping.values()) <= names:
            return source
    raise ValueError(f"{bvh.path}: skeleton matches no known source ({', '.join(SOURCES)}); "
                     f"joints: {', '.join(bvh.joint_names[:8])}…")


def from_bvh(bvh: Bvh, source: str | None = None) -> np.ndarray:
    """Canonical world positions (T, 21, 3) float32 from a parsed BVH."""
    source = source or detect_source(bvh)
    full = bvh.positions(include_ends=True)
    index = {n: i for i, n in enumerate(bvh.names)}
    return full[:, [index[SOURCES[source][j]] for j in JOINTS]].astype(np.float32)


def bone_stability(p: np.ndarray, parents: list[int], skip: set[int] = frozenset()) -> dict[str, float]:
    """Bone-length constancy of positions (T, J, 3): relative std over frames, worst and median.

    Zero-length bones and bones ending at a joint in `skip` (free translation) are left out.
    """
    bones = [(j, p_) for j, p_ in enumerate(parents) if p_ >= 0 and j not in skip]
    if not bones:
        return {"bones": 0, "max_rel_std": 0.0, "median_rel_std": 0.0}
    child, parent = zip(*bones)
    length = np.linalg.norm(p[:, list(child)] - p[:, list(parent)], axis=-1)
    mean = length.mean(0)
    keep = mean > 1e-4
    rel = length.std(0)[keep] / mean[keep]
    return {"bones": int(keep.sum()), "max_rel_std": float(rel.max(initial=0.0)),
            "median_rel_std": float(np.median(rel)) if rel.size else 0.0}


# ---- body frame --------------------------------------------------------------------------------

def _length(v: np.ndarray) -> np.ndarray:
    # np.linalg.norm and np.cross check and move axes first: at a live frame's sizes (a few bodies)
    # that costs more than the arithmetic, and a live frame takes several body frames
    return np.sqrt((v * v).sum(-1, keepdims=True))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(_length(v), 1e-8)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=-1)


def body_frame(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(left, up, forward, scale) of canonical poses (..., 21, 3).

    scale is 1 for a body with 0.34 m between the shoulder joints, so derived offsets grow and
    shrink with the figure (the CMU salsa dancers are about 0.7 of life size).
    """
    c = INDEX
    left = (p[..., c["l_shoulder"], :] - p[..., c["r_shoulder"], :]) + (p[..., c["l_hip"], :] - p[..., c["r_hip"], :])
    up = _unit(p[..., c["head"], :] - p[..., c["pelvis"], :])
    left = _unit(left - (left * up).sum(-1, keepdims=True) * up)
    forward = _cross(left, up)
    scale = _length(p[..., c["l_shoulder"], :] - p[..., c["r_shoulder"], :]) / 0.34
    return left, up, forward, scale


# ---- tracker layouts ---------------------------------------------------------------------------
# A point is a canonical joint name, or a (base joint, (left, up, forward) offset in metres at
# scale 1) pair placed in the body frame, or a ("lerp", a, b, t) between two canonical joints.

_FACE = {  # offsets from the head joint (base of the skull)
    "nose": (0.0, 0.07, 0.11), "l_eye": (0.032, 0.10, 0.085), "r_eye": (-0.032, 0.10, 0.085),
    "l_eye_inner": (0.018, 0.10, 0.09), "r_eye_inner": (-0.018, 0.10, 0.09),
    "l_eye_outer": (0.046, 0.10, 0.08), "r_eye_outer": (-0.046, 0.10, 0.08),
    "l_ear": (0.075, 0.08, 0.0), "r_ear": (-0.075, 0.08, 0.0),
    "mouth_l": (0.025, 0.03, 0.10), "mouth_r": (-0.025, 0.03, 0.10),
    "head_centre": (0.0, 0.09, 0.02),
}


def _face(name: str) -> tuple:
    return ("head", _FACE[name])


def _hand(side: str, along: float) -> tuple:
    """A point on the hand, `along` metres past the wrist on the forearm's line."""
    return ("extend", f"{side}_elbow", f"{side}_wrist", along)


def _heel(side: str) -> tuple:
    return ("extend", f"{side}_toe", f"{side}_ankle", 0.06)


LAYOUTS: dict[str, list[tuple[str, object]]] = {
    "canonical": [(n, n) for n in JOINTS],
    "coco17": [
        ("nose", _face("nose")), ("l_eye", _face("l_eye")), ("r_eye", _face("r_eye")),
        ("l_ear", _face("l_ear")), ("r_ear", _face("r_ear")),
        ("l_shoulder", "l_shoulder"), ("r_shoulder", "r_shoulder"), ("l_elbow", "l_elbow"),
        ("r_elbow", "r_elbow"), ("l_wrist", "l_wrist"), ("r_wrist", "r_wrist"),
        ("l_hip", "l_hip"), ("r_hip", "r_hip"), ("l_knee", "l_knee"), ("r_knee", "r_knee"),
        ("l_ankle", "l_ankle"), ("r_ankle", "r_ankle"),
    ],
    "mediapipe33": [
        ("nose", _face("nose")),
        ("l_eye_inner", _face("l_eye_inner")), ("l_eye", _face("l_eye")), ("l_eye_outer", _face("l_eye_outer")),
        ("r_eye_inner", _face("r_eye_inner")), ("r_eye", _face("r_eye")), ("r_eye_outer", _face("r_eye_outer")),
        ("l_ear", _face("l_ear")), ("r_ear", _face("r_ear")),
        ("mouth_l", _face("mouth_l")), ("mouth_r", _face("mouth_r")),
        ("l_shoulder", "l_shoulder"), ("r_shoulder", "r_shoulder"), ("l_elbow", "l_elbow"),
        ("r_elbow", "r_elbow"), ("l_wrist", "l_wrist"), ("r_wrist", "r_wrist"),
        ("l_pinky", _hand("l", 0.08)), ("r_pinky", _hand("r", 0.08)),
        ("l_index", _hand("l", 0.09)), ("r_index", _hand("r", 0.09)),
        ("l_thumb", _hand("l", 0.05)), ("r_thumb", _hand("r", 0.05)),
        ("l_hip", "l_hip"), ("r_hip", "r_hip"), ("l_knee", "l_knee"), ("r_knee", "r_knee"),
        ("l_ankle", "l_ankle"), ("r_ankle", "r_ankle"), ("l_heel", _heel("l")), ("r_heel", _heel("r")),
        ("l_foot_index", "l_toe"), ("r_foot_index", "r_toe"),
    ],
    "body25": [
        ("Nose", _face("nose")), ("Neck", ("lerp", "l_shoulder", "r_shoulder", 0.5)),
        ("RShoulder", "r_shoulder"), ("RElbow", "r_elbow"), ("RWrist", "r_wrist"),
        ("LShoulder", "l_shoulder"), ("LElbow", "l_elbow"), ("LWrist", "l_wrist"),
        ("MidHip", ("lerp", "l_hip", "r_hip", 0.5)),
        ("RHip", "r_hip"), ("RKnee", "r_knee"), ("RAnkle", "r_ankle"),
        ("LHip", "l_hip"), ("LKnee", "l_knee"), ("LAnkle", "l_ankle"),
        ("REye", _face("r_eye")), ("LEye", _face("l_eye")), ("REar", _face("r_ear")), ("LEar", _face("l_ear")),
        ("LBigToe", "l_toe"), ("LSmallToe", ("l_toe", (0.035, 0.0, -0.02))), ("LHeel", _heel("l")),
        ("RBigToe", "r_toe"), ("RSmallToe", ("r_toe", (-0.035, 0.0, -0.02))), ("RHeel", _heel("r")),
    ],
    "kinect25": [
        ("SpineBase", "pelvis"), ("SpineMid", "spine"), ("Neck", "neck"), ("Head", _face("head_centre")),
        ("ShoulderLeft", "l_shoulder"), ("ElbowLeft", "l_elbow"), ("WristLeft", "l_wrist"), ("HandLeft", _hand("l", 0.07)),
        ("ShoulderRight", "r_shoulder"), ("ElbowRight", "r_elbow"), ("WristRight", "r_wrist"), ("HandRight", _hand("r", 0.07)),
        ("HipLeft", "l_hip"), ("KneeLeft", "l_knee"), ("AnkleLeft", "l_ankle"), ("FootLeft", "l_toe"),
        ("HipRight", "r_hip"), ("KneeRight", "r_knee"), ("AnkleRight", "r_ankle"), ("FootRight", "r_toe"),
        ("SpineShoulder", ("lerp", "l_shoulder", "r_shoulder", 0.5)),
        ("HandTipLeft", _hand("l", 0.15)), ("ThumbLeft", _hand("l", 0.06)),
        ("HandTipRight", _hand("r", 0.15)), ("ThumbRight", _hand("r", 0.06)),
    ],
}


def layout_names(layout: str) -> list[str]:
    return [name for name, _ in _layout(layout)]


def _layout(layout: str) -> list[tuple[str, object]]:
    try:
        return LAYOUTS[layout]
    except KeyError:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}") from None


def to_layout(p: np.ndarray, layout: str) -> np.ndarray:
    """Canonical poses (..., 21, 3) → tracker layout (..., K, 3)."""
    if layout == "canonical":       # the model's own: the default output, sent every frame
        return p
    left, up, forward, scale = body_frame(p)
    out = []
    for _, point in _layout(layout):
        if isinstance(point, str):
            out.append(p[..., INDEX[point], :])
        elif point[0] == "lerp":
            _, a, b, t = point
            out.append((1 - t) * p[..., INDEX[a], :] + t * p[..., INDEX[b], :])
        elif point[0] == "extend":
            _, a, b, along = point
            pa, pb = p[..., INDEX[a], :], p[..., INDEX[b], :]
            out.append(pb + _unit(pb - pa) * along * scale)
        else:
            base, (dl, du, df) = point
            out.append(p[..., INDEX[base], :] + (dl * left + du * up + df * forward) * scale)
    return np.stack(out, axis=-2).astype(p.dtype)


# How each canonical joint comes back from a layout that lacks it: a weighted sum of layout
# points (by name). Joints a layout has map straight through.
def _mid(a: str, b: str) -> dict[str, float]:
    return {a: 0.5, b: 0.5}


def _from_common(hip_l: str, hip_r: str, sh_l: str, sh_r: str, ear_l: str, ear_r: str) -> dict[str, dict[str, float]]:
    """Spine, chest, neck, collars and head from hips, shoulders and ears (Bandai proportions)."""
    def along(t: float) -> dict[str, float]:  # pelvis → neck (mid-shoulders) at fraction t
        return {hip_l: (1 - t) / 2, hip_r: (1 - t) / 2, sh_l: t / 2, sh_r: t / 2}
    return {
        "pelvis": along(0.0), "spine": along(0.38), "chest": along(0.6), "neck": along(1.0),
        "head": _mid(ear_l, ear_r),
        # a collar joint sits 30 % of the way from the neck's base to its shoulder
        "l_collar": {sh_l: 0.65, sh_r: 0.35},
        "r_collar": {sh_r: 0.65, sh_l: 0.35},
    }


def _inverse_recipes(layout: str) -> dict[str, dict[str, float]]:
    names = set(layout_names(layout))
    if layout == "canonical":
        return {j: {j: 1.0} for j in JOINTS}
    if layout == "kinect25":
        recipes = {"pelvis": {"SpineBase": 1.0}, "spine": {"SpineMid": 1.0}, "neck": {"Neck": 1.0},
                   "chest": {"SpineMid": 0.5, "SpineShoulder": 0.5},
                   "head": {"Head": 1.0}, "l_collar": {"SpineShoulder": 0.7, "ShoulderLeft": 0.3},
                   "r_collar": {"SpineShoulder": 0.7, "ShoulderRight": 0.3}}
        side = {"l": "Left", "r": "Right"}
        for s, S in side.items():
            recipes |= {f"{s}_shoulder": {f"Shoulder{S}": 1.0}, f"{s}_elbow": {f"Elbow{S}": 1.0},
                        f"{s}_wrist": {f"Wrist{S}": 1.0}, f"{s}_hip": {f"Hip{S}": 1.0},
                        f"{s}_knee": {f"Knee{S}": 1.0}, f"{s}_ankle": {f"Ankle{S}": 1.0},
                        f"{s}_toe": {f"Foot{S}": 1.0}}
        return recipes
    if layout == "body25":
        recipes = _from_common("LHip", "RHip", "LShoulder", "RShoulder", "LEar", "REar")
        recipes["neck"] = {"Neck": 1.0}
        recipes["pelvis"] = {"MidHip": 1.0}
        for s, S in {"l": "L", "r": "R"}.items():
            recipes |= {f"{s}_shoulder": {f"{S}Shoulder": 1.0}, f"{s}_elbow": {f"{S}Elbow": 1.0},
                        f"{s}_wrist": {f"{S}Wrist": 1.0}, f"{s}_hip": {f"{S}Hip": 1.0},
                        f"{s}_knee": {f"{S}Knee": 1.0}, f"{s}_ankle": {f"{S}Ankle": 1.0},
                        f"{s}_toe": {f"{S}BigToe": 1.0}}
        return recipes
    # coco17 and mediapipe33 share snake_case names
    recipes = _from_common("l_hip", "r_hip", "l_shoulder", "r_shoulder", "l_ear", "r_ear")
    for j in JOINTS:
        if j in names:
            recipes[j] = {j: 1.0}
    if "l_foot_index" in names:
        recipes["l_toe"], recipes["r_toe"] = {"l_foot_index": 1.0}, {"r_foot_index": 1.0}
    return recipes


def from_layout(points: np.ndarray, layout: str) -> np.ndarray:
    """Tracker layout (..., K, 3) → canonical (..., 21, 3). 2-D input: pass z = 0.

    COCO-17 has no feet: toes are placed ahead of and below the ankles in the body frame.
    """
    index = {n: i for i, n in enumerate(layout_names(layout))}
    recipes = _inverse_recipes(layout)
    out = np.zeros(points.shape[:-2] + (J, 3), dtype=points.dtype)
    for j, name in enumerate(JOINTS):
        if name in recipes:
            for src, w in recipes[name].items():
                out[..., j, :] += w * points[..., index[src], :]
    if "l_toe" not in recipes:
        left, up, forward, scale = body_frame(out)
        for s in "lr":
            out[..., INDEX[f"{s}_toe"], :] = out[..., INDEX[f"{s}_ankle"], :] + (0.13 * forward - 0.06 * up) * scale
    return out

