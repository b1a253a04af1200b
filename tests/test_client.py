"""bridge.client against a live daemon over real UDP, beside another program on the output port."""
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bridge.client import Client
from bridge.daemon import ServeConfig, create
from conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def daemon(solo_model):
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)    # another program holds the output port
    holder.bind(("127.0.0.1", 0))
    d = create(ServeConfig(port=0, out_port=holder.getsockname()[1], glide=0.0, dashboard="off", midi="none"))
    d.start()
    yield d
    d.stop()
    holder.close()


def test_frames_arrive_as_arrays_named_by_the_schema(daemon):
    with Client("127.0.0.1", daemon.address[1]) as bridge:
        assert bridge.schema.labels == daemon.engine.labels
        assert bridge.schema.names[4] == "head"
        first = bridge.frame()
        later = [bridge.frame() for _ in range(10)]
        assert first.poses.shape == (1, 21, 3) and first.emotion.shape == (1, len(daemon.engine.labels))
        assert [f.index for f in later] == list(range(first.index + 1, first.index + 11))   # none lost, in order
        assert np.abs(later[-1].poses - first.poses).max() > 1e-3                          # the dancer moves
        assert 1.2 < first.joint("head")[1] < 2.0                                           # a head, at head height
        assert f"127.0.0.1:{bridge.port}" in bridge.status().subscribers


def test_emotion_and_parameters_reach_the_engine_and_errors_come_back(daemon):
    with Client("127.0.0.1", daemon.address[1]) as bridge:
        bridge.emotion(sad=1.0)
        bridge.set("energy", 2.5)
        bridge.set("variance", 99999.0)                                 # out of range: refused
        sad = bridge.schema.labels.index("sad")
        assert wait_until(lambda: bridge.latest().target[0, sad] > 0.99), "the target never became sad"
        assert wait_until(lambda: bridge.poll(0.1) or bridge.errors), "no error came back"
        assert "variance must be between" in bridge.errors[-1]
        assert daemon.engine.value("energy") == pytest.approx(2.5)


def test_with_nothing_there_it_says_so():
    port = free_port()
    with pytest.raises(TimeoutError, match=f"no daemon answered at 127.0.0.1:{port}"):
        Client("127.0.0.1", port, timeout=0.5)


def test_the_example_runs(daemon):
    run = subprocess.run([sys.executable, str(ROOT / "patches/python/example.py"), str(daemon.address[1])],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "labels: " + ", ".join(daemon.engine.labels) in run.stdout
    assert "head at [" in run.stdout
    happy = daemon.engine.labels.index("happy")
    assert daemon.engine.target[0][happy] > 0.99
