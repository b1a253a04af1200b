import json
import shutil
import zipfile

import numpy as np
import pytest

from conftest import DATA, need
from models import dataset, motion, skeleton
from models.dataset import MotionDataset, build_bandai, build_folder, build_salsa, label_from_name, resample


@pytest.fixture
def bvh_folder(tmp_path, bandai_bvh, salsa_pair):
    """Six labelled clips (three happy, three sad), from both real sources, plus one corrupt file."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for k in range(3):
        shutil.copy(bandai_bvh, folder / f"happy_{k:02d}.bvh")
        shutil.copy(salsa_pair[k % 2], folder / f"sad_{k:02d}.bvh")
    (folder / "broken_01.bvh").write_text("HIERARCHY\nROOT x\n{\n")
    return folder


def test_label_from_file_name():
    assert label_from_name("happy_01") == "happy"
    assert label_from_name("dataset-1_dash_normal_001") == "normal"
    assert label_from_name("42") == "42"


def test_folder_build_keeps_labels_with_clips_through_save_and_load(bvh_folder, tmp_path):
    ds = build_folder(bvh_folder)
    out = tmp_path / "ds.npz"
    ds.save(out)
    ds = MotionDataset.load(out)
    assert ds.n_clips == 6 and ds.label_names == ["happy", "sad"]
    for c in range(ds.n_clips):
        assert ds.label_names[ds.labels[c]] == label_from_name(ds.clip_names[c])
    # salsa clips (120 fps, 120 frames) come out at 30 fps; Bandai (30 fps, 20 frames) stays
    lengths = {ds.clip_names[c]: ds.clip_length(c) for c in range(ds.n_clips)}
    assert lengths["sad_00"] == 30 and lengths["happy_00"] == 20
    # the last clip of each label is held out, the rest train
    assert sorted(ds.clip_names[c] for c in ds.split(heldout=True)) == ["happy_02", "sad_02"]
    assert ds.feature_mean.shape == (motion.n_features(),) and (ds.feature_std > 0).all()


def test_saving_is_atomic(bvh_folder, tmp_path, monkeypatch):
    ds = build_folder(bvh_folder)
    out = tmp_path / "ds.npz"

    def fail(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError):
        ds.save(out)
    assert list(tmp_path.iterdir()) == [bvh_folder]


def test_resample_integer_ratio_keeps_frames_and_other_ratios_interpolate():
    p = np.arange(12, dtype=np.float32).reshape(12, 1)
    np.testing.assert_array_equal(resample(p, 120, 30), p[::4])
    np.testing.assert_allclose(resample(p, 50, 20)[:3, 0], [0, 2.5, 5.0])


def test_salsa_pair_shares_one_world(tmp_path, salsa_pair):
    folder = tmp_path / "salsa"
    folder.mkdir()
    shutil.copy(salsa_pair[0], folder / "60_01_scaled.bvh")
    shutil.copy(salsa_pair[1], folder / "61_01_scaled.bvh")
    ds = build_salsa(folder, holdout=())
    assert ds.positions.shape == (30, 2, 21, 3)
    gap = np.linalg.norm(ds.positions[:, 0, 0] - ds.positions[:, 1, 0], axis=-1)
    assert (gap > 0.2).all() and (gap < 3).all()   # two dancers, arm's length apart, not stacked


def test_bandai_skips_a_missing_clip_with_a_warning(tmp_path, bandai_bvh, caplog):
    root = need(DATA / "bandai")
    fake = tmp_path / "bandai"
    (fake / "data").mkdir(parents=True)
    shutil.copytree(root / "cfg", fake / "cfg")
    shutil.copy(bandai_bvh, fake / "data" / "dataset-1_dash_normal_001.bvh")
    (fake / "data" / "dataset-1_dash_normal_001.json").write_text(json.dumps({"content": 2, "style": 0}))
    (fake / "data" / "dataset-1_guide_normal_001.json").write_text(json.dumps({"content": 8, "style": 0}))
    ds = build_bandai(fake, styles=["normal"])
    assert ds.clip_names == ["dataset-1_dash_normal_001"]
    assert "dataset-1_guide_normal_001.bvh" in caplog.text


def test_full_bandai_build_holds_out_whole_actions(bandai_dataset):
    ds = bandai_dataset
    assert ds.label_names == list(dataset.BANDAI_STYLES)
    assert ds.n_clips == 86
    held = {ds.clip_names[c].split("_")[1] for c in ds.split(heldout=True)}
    train = {ds.clip_names[c].split("_")[1] for c in ds.split(heldout=False)}
    assert held == {"guide", "byebye"} and not held & train
    for c in range(ds.n_clips):
        assert ds.label_names[ds.labels[c]] == ds.clip_names[c].split("_")[2]
    worst = max(skeleton.bone_stability(ds.clip(c)[:, 0], skeleton.PARENTS)["max_rel_std"] for c in range(ds.n_clips))
    assert worst < 1e-3


def test_bandai2_is_read_in_place_from_its_zip(tmp_path, bandai_bvh, caplog):
    """Dataset-2's layout: cfg lists with a `dataset-2_` prefix, and the clips inside data.zip."""
    fake = tmp_path / "bandai2"
    (fake / "cfg").mkdir(parents=True)
    (fake / "cfg" / "content_label.txt").write_text("dataset-2_walk\ndataset-2_run\ndataset-2_wave-left-hand")
    (fake / "cfg" / "style_label.txt").write_text("dataset-2_active\ndataset-2_elderly")
    clip = bandai_bvh.read_bytes()
    with zipfile.ZipFile(fake / "data.zip", "w") as z:
        for name, content, style in (("walk_active_001", 0, 0), ("run_elderly_001", 1, 1),
                                     ("wave-left-hand_elderly_002", 2, 1), ("run_active_002", 1, 0)):
            z.writestr(f"data/dataset-2_{name}.json", json.dumps({"content": content, "style": style}))
            if name != "run_active_002":                               # its BVH is missing
                z.writestr(f"data/dataset-2_{name}.bvh", clip)
        z.writestr("data/dataset-2_walk_elderly_003.json", json.dumps({"content": 0, "style": 1}))
        z.writestr("data/dataset-2_walk_elderly_003.bvh", b"HIERARCHY\nROOT x\n{\n")   # corrupt
    ds = build_bandai(fake)
    assert ds.label_names == ["active", "elderly"]
    assert sorted(ds.clip_names) == ["dataset-2_run_elderly_001", "dataset-2_walk_active_001",
                                     "dataset-2_wave-left-hand_elderly_002"]
    assert [ds.clip_names[c] for c in ds.split(heldout=True)] == ["dataset-2_wave-left-hand_elderly_002"]
    for c in range(ds.n_clips):
        assert ds.label_names[ds.labels[c]] == ds.clip_names[c].split("_")[2]
        np.testing.assert_allclose(ds.clip(c)[:, 0], dataset.load_bvh_canonical(bandai_bvh, 30.0), atol=1e-5)
    assert "dataset-2_run_active_002.bvh" in caplog.text and "walk_elderly_003" in caplog.text
    assert build_bandai(fake, styles=["elderly"]).n_clips == 2


def test_the_real_bandai2_zip_opens_with_its_styles_and_actions():
    root = need(DATA / "bandai2")
    with zipfile.ZipFile(root / "data.zip") as z:
        bvh = [n for n in z.namelist() if n.endswith(".bvh")]
    assert len(bvh) == 2902
    assert dataset._names(root / "cfg" / "style_label.txt") == ["active", "elderly", "exhausted", "feminine",
                                                                 "masculine", "normal", "youthful"]
    assert set(dataset.BANDAI2_HOLDOUT) <= set(dataset._names(root / "cfg" / "content_label.txt"))


def test_sources_joined_by_plus_merge_into_one_dataset(tmp_path, bandai_bvh, salsa_pair):
    for folder, labels in (("one", ("calm", "wild")), ("two", ("wild", "new"))):
        (tmp_path / folder).mkdir()
        for label in labels:
            for k in range(3):
                shutil.copy(bandai_bvh if label == "calm" else salsa_pair[k % 2], tmp_path / folder / f"{label}_{k}.bvh")
    one, two = build_folder(tmp_path / "one"), build_folder(tmp_path / "two")
    ds = dataset.build(f"{tmp_path / 'one'}+{tmp_path / 'two'}")
    assert ds.label_names == ["calm", "wild", "new"]        # "wild" of both is one label
    assert ds.clip_names == one.clip_names + two.clip_names and ds.n_clips == 12
    for c in range(ds.n_clips):
        assert ds.label_names[ds.labels[c]] == ds.clip_names[c].split("_")[0]
    np.testing.assert_array_equal(ds.heldout, np.concatenate([one.heldout, two.heldout]))
    np.testing.assert_array_equal(ds.clip(11), two.clip(5))
    train = np.concatenate([ds.features[c][:, 0] for c in ds.split(heldout=False)])
    np.testing.assert_allclose(ds.feature_mean, train.mean(0), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="frame rate"):
        dataset.merge([one, build_folder(tmp_path / "two", fps=15.0)])


def test_actions_come_from_bandai_names_and_mirror_left_to_right():
    from models.dataset import mirrored_action, named_actions
    names = ["dataset-1_walk-left_happy_001", "dataset-2_wave-right-hand_active_002", "dataset-1_bow_sad_001"]
    assert named_actions(names) == ["bow", "walk-left", "wave-right-hand"]
    assert named_actions(names + ["happy_01"]) == []          # a clip named by no action: nothing says what any does
    assert [mirrored_action(a) for a in ("walk-left", "wave-right-hand", "bow")] == ["walk-right", "wave-left-hand", "bow"]
