"""The duet live: both dancers every frame, the partner beside its lead, a tracked human who leaves
and comes back without a jump, and pairs batched."""
import numpy as np
import pytest

from models import skeleton
from models.duet import make_live
from models.duet.lead import LeadConfig
from models.live import Condition, Tracked
from models.sampling import SamplingParams
from models.solo import make_live as make_soloist

FPS = 30.0


@pytest.fixture
def duet(solo_model, duet_model):
    def build(pairs: int = 1, leave_after: float = 0.5):
        soloist = make_soloist(*solo_model, performers=pairs, seed=1, stage=3.0)
        return make_live(*duet_model, performers=pairs, seed=1, soloist=soloist,
                         lead=LeadConfig(leave_after=leave_after, ease=0.5))
    return build


def condition(live, mode: str, poses=None) -> Condition:
    P, L = live.performers, len(live.labels)
    emotion = np.zeros((P, L), dtype=np.float32)
    emotion[:, 0] = 1.0
    return Condition(emotion, [SamplingParams()] * P, poses or [None] * P, mode, {"pose_cutoff": 1.0, "pose_beta": 0.5})


def salsa_lead() -> np.ndarray:
    from models.bvh import read_bvh
    from tests.conftest import SALSA_LEAD, need
    p = skeleton.from_bvh(read_bvh(need(SALSA_LEAD)))[::4]           # 1 s at 30 fps
    return np.concatenate([p, p[::-1]] * 3)                           # 6 s, forward and back


def test_duet_mode_streams_the_soloist_and_its_partner_together(duet):
    live = duet()
    frames = np.array([live.step(condition(live, "duet")) for _ in range(90)])
    assert frames.shape == (90, 2, skeleton.J, 3) and np.isfinite(frames).all()
    apart = np.linalg.norm((frames[:, 0, 0] - frames[:, 1, 0])[:, [0, 2]], axis=-1)
    assert apart.max() < 3.0                                           # a partner, not a stranger
    assert np.linalg.norm(np.diff(frames[:, 1], axis=0), axis=-1).mean() > 0.002   # and it moves
    assert live.status()["lead"] == ["soloist"]


def test_the_partner_follows_a_tracked_human_who_leaves_and_comes_back_without_a_jump(duet):
    live = duet(leave_after=0.5)
    human = salsa_lead() + np.array([1.0, 0.0, 0.5], dtype=np.float32)   # standing off-centre
    shown, leads = [], []
    schedule = [True] * 60 + [False] * 60 + [True] * 60              # 2 s there, 2 s gone, back
    for t, present in enumerate(schedule):
        pose = [Tracked(human[t % len(human)], False)] if present else [None]
        shown.append(live.step(condition(live, "partner", pose)))
        leads.append(live.status()["lead"][0])
    shown = np.array(shown)
    assert leads[30] == "dancer" and leads[59 + 14] == "dancer"      # held through the first half-second
    assert leads[59 + 20].startswith("soloist") and leads[-1] == "dancer"
    # the streamed lead is the human (once eased in), smoothed
    assert np.linalg.norm(shown[50, 0, 0] - human[50, 0]) < 0.1
    # and never jumps: not when the soloist takes over, not when the human returns
    step = np.linalg.norm(np.diff(shown[:, 0, 0], axis=0), axis=-1)
    assert step.max() < 0.15, f"the lead jumped {step.max():.2f} m in a frame at {step.argmax()}"
    partner_step = np.linalg.norm(np.diff(shown[:, 1, 0], axis=0), axis=-1)
    assert partner_step.max() < 0.15


def test_pairs_batch_and_each_follows_its_own_human(duet):
    live = duet(pairs=2)
    human = salsa_lead()
    for t in range(40):                                              # a human for pair 2 only
        out = live.step(condition(live, "partner", [None, Tracked(human[t] + np.array([3.0, 0, 0], np.float32), False)]))
    assert out.shape == (4, skeleton.J, 3)
    assert live.status()["lead"] == ["soloist (waiting for a dancer)", "dancer"]
    assert np.linalg.norm(out[2, 0] - (human[39, 0] + [3.0, 0, 0])) < 0.2


def test_a_partner_pushed_away_comes_back_beside_its_lead(duet):
    live = duet()
    human = salsa_lead()
    hips = lambda out: np.linalg.norm((out[1, 0] - out[0, 0])[[0, 2]])
    for t in range(60):
        out = live.step(condition(live, "partner", [Tracked(human[t], False)]))
    gap = (out[1, 0] - out[0, 0])[[0, 2]]
    live.partner.slide((gap / np.linalg.norm(gap) * (1.8 - np.linalg.norm(gap)))[None])   # 1.8 m away
    apart, steps, last = [], [], out[1, 0]
    for t in range(60, 150):
        out = live.step(condition(live, "partner", [Tracked(human[t % len(human)], False)]))
        apart.append(hips(out))
        steps.append(np.linalg.norm(out[1, 0] - last))
        last = out[1, 0]
    # the reach guard alone would hold it at 1.5 m; its own sense of where a partner stands brings it
    # back to a dancer's distance (salsa partners: 0.6 m on average) within 3 s, walking, not jumping
    assert apart[0] > 1.4 and min(apart[-30:]) < 0.8, f"still {min(apart[-30:]):.2f} m away"
    assert max(steps[1:]) < 0.15


def test_settling_between_frames_moves_work_out_of_the_step_and_changes_nothing(duet_model):
    from models.duet.live import Partner
    lead = salsa_lead()
    settled, plain = Partner(*duet_model, seed=4), Partner(*duet_model, seed=4)
    for t in range(60):
        a = settled.step(lead[t][None])
        settled.settle()                        # as the daemon does once a frame has gone out
        assert settled.state.prepared is not None
        np.testing.assert_allclose(a, plain.step(lead[t][None]), atol=1e-5)


@pytest.mark.parametrize("limbs", (0.35, 0.9))
def test_the_energy_governor_holds_the_partners_limbs_to_a_real_followers_speed(duet_model, limbs):
    """Whatever the network's own energy (its limbs wander between a fifth and nine tenths of a real
    follower's speed), the partner's limbs settle at the speed the checkpoint gives."""
    from models.duet.live import Partner
    from models.metrics import limb_speed
    model, meta = duet_model
    lead = salsa_lead()
    partner = Partner(model, {**meta, "limb_speed": limbs}, seed=2)
    made = np.stack([partner.step(lead[t % len(lead)][None])[0] for t in range(900)])
    assert limb_speed(made[450:], FPS) == pytest.approx(limbs, rel=0.2)


def test_a_duet_shows_its_partners_limbs_and_their_gain(duet):
    live = duet()
    for _ in range(60):
        live.step(condition(live, "duet"))
    status = live.status()
    assert status["partner_limbs"][0] > 0 and 1 / 3 - 1e-6 <= status["partner_gain"][0] <= 3.01
