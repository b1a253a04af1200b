import pytest

from models.schedules import kl_weight, learning_rate, ramp, teacher_forcing


def test_delayed_linear_ramp_of_the_mdn_weight():
    assert ramp(0, 0.1, 1.0, delay=100, length=200) == 0.1
    assert ramp(100, 0.1, 1.0, delay=100, length=200) == 0.1
    assert ramp(200, 0.1, 1.0, delay=100, length=200) == pytest.approx(0.55)
    assert ramp(10_000, 0.1, 1.0, delay=100, length=200) == 1.0


def test_exponential_ramp_grows_late_and_constant_stays():
    lin = ramp(150, 0.1, 1.0, 100, 100, "linear")
    exp = ramp(150, 0.1, 1.0, 100, 100, "exponential")
    assert exp < lin and exp == pytest.approx(0.1 * 10 ** 0.5)
    assert ramp(150, 0.1, 1.0, 100, 100, "exponential") < ramp(199, 0.1, 1.0, 100, 100, "exponential") < 1.0
    assert ramp(0, 0.1, 0.7, 100, 100, "constant") == 0.7
    with pytest.raises(ValueError):
        ramp(0, 0, 1, 0, 1, "cosine")


def test_kl_annealing_modes():
    assert [kl_weight(s, "monotonic", warmup=100) for s in (0, 50, 100, 500)] == [0, 0.5, 1, 1]
    assert [kl_weight(s, "cyclical", cycle=100) for s in (0, 25, 50, 99, 100, 125)] == [0, 0.5, 1, 1, 0, 0.5]
    assert kl_weight(0, "none", max_weight=0.3) == 0.3
    with pytest.raises(ValueError):
        kl_weight(0, "sometimes")


def test_teacher_forcing_decays_to_its_floor():
    assert teacher_forcing(0, 1000, 0.6) == 1.0
    assert teacher_forcing(500, 1000, 0.6) == pytest.approx(0.8)
    assert teacher_forcing(2000, 1000, 0.6) == pytest.approx(0.6)


def test_learning_rate_warms_up_then_decays():
    assert learning_rate(0, 1000, 1e-3, 100) == pytest.approx(1e-5)
    assert learning_rate(99, 1000, 1e-3, 100) == pytest.approx(1e-3)
    assert learning_rate(1000, 1000, 1e-3, 100) == pytest.approx(1e-4)
