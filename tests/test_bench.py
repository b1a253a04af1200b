from bridge.bench import bench_serve


def test_bench_serve_measures_a_real_daemon_from_outside():
    r = bench_serve(performers=1, seconds=3.0, change_every=0.3)
    assert r["fps_delivered"] > 0 and r["changes"] >= 3      # frames arrived, and changes showed in them
    assert 0 < r["change_to_frame_p50_ms"] < 1000
    assert r["daemon_step_p50_ms"] > 0 and r["daemon_lead_ms"] > 0   # the daemon answered /bridge/status
