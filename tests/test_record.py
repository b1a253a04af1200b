import signal
import socket
import subprocess
import sys
import time

import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from conftest import free_port, wait_until
from bridge import osc
from bridge.cli import main
from models import skeleton
from models.dataset import MotionDataset


def test_record_then_train_on_it(salsa_pair, tmp_path):
    """Poses from a real clip, sent as MediaPipe over OSC, come back as a labelled dataset."""
    from models.bvh import read_bvh
    real = skeleton.from_bvh(read_bvh(salsa_pair[0]))[::4]                    # 30 frames at 30 fps
    mp = skeleton.to_layout(real, "mediapipe33")
    out = tmp_path / "session.npz"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bridge.cli", "record", "--out", str(out), "--port", str(port),
                             "--pose-space", "metres", "--labels", "calm,wild"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        client = SimpleUDPClient("127.0.0.1", port)
        ready = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # until the recorder answers, it is not listening
        ready.settimeout(0.2)
        deadline = time.monotonic() + 60
        while True:
            ready.sendto(osc.message("/record/label", "no-such-label-at-all"), ("127.0.0.1", port))
            try:
                ready.recvfrom(65536)
                break
            except socket.timeout:
                assert time.monotonic() < deadline, "the recorder did not start"
        for label in ("calm", "wild", "calm"):
            client.send_message("/emotion", [label, 1.0])
            for k in range(45):
                client.send_message("/pose", mp[k % 30].ravel().tolist())
                time.sleep(1 / 30)
        client.send_message("/pose", [1.0, 2.0])                               # a bad one: counted, answered

        def written() -> bool:                  # the recorder rewrites the file every second
            try:
                return MotionDataset.load(out).n_clips == 3 and MotionDataset.load(out).positions.shape[0] >= 100
            except ValueError:
                return False
        assert wait_until(written, timeout=20)
        # killed without warning, the file still holds everything up to the last second
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    ds = MotionDataset.load(out)
    assert ds.label_names == ["calm", "wild"]
    assert [ds.label_names[l] for l in ds.labels] == ["calm", "wild", "calm"]
    assert 100 <= ds.positions.shape[0] <= 200   # 4.5 s of poses at 30 fps, give or take the sender
    # every recorded frame is one of the poses sent: joints the tracker carries come back exactly
    i = skeleton.INDEX["l_wrist"]
    sent = real[:, i]
    for c in range(ds.n_clips):
        got = ds.clip(c)[:, 0, i]
        assert np.linalg.norm(got[:, None] - sent[None], axis=-1).min(axis=1).max() < 1e-4
    # and train takes it
    assert main(["train", "solo", "--data", str(out), "--out", str(tmp_path / "m"), "--steps", "3",
                 "--context", "8", "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--batch-size", "4",
                 "--eval-every", "3", "--threads", "1"]) == 0
