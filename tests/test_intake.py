import ipaddress

from bridge.intake import BAR_AFTER, BAR_S, MAX_BARRED, MAX_SENDERS, Intake

LOCAL = [ipaddress.ip_network("127.0.0.0/8")]


def test_senders_outside_allow_are_denied():
    intake = Intake(LOCAL, per_sender=100, budget=100)
    assert intake.admit(("10.0.0.1", 5000), 0.0) == "denied"
    assert intake.admit(("127.0.0.1", 5000), 0.0) == "read"


def test_one_sender_over_its_rate_is_cut_off_alone():
    intake = Intake(LOCAL, per_sender=10, budget=1000)
    verdicts = [intake.admit(("127.0.0.1", 1), 0.0) for _ in range(20)]
    assert verdicts.count("read") == 10 and verdicts.count("flood") == 10
    assert intake.admit(("127.0.0.1", 2), 0.0) == "read"
    assert intake.admit(("127.0.0.1", 1), 1.0) == "read"        # a second later it is back


def test_a_performer_in_good_standing_is_served_whatever_garbage_many_ports_send():
    intake = Intake(LOCAL, per_sender=2000, budget=100)
    performer = ("127.0.0.1", 9000)
    intake.admit(performer, 0.0)
    intake.judged(performer, True)
    read = 0
    for i in range(64 * 100):                  # 64 ports, each of whose datagrams is refused
        sender = ("127.0.0.1", 20000 + i % 64)
        if intake.admit(sender, i * 1e-5) == "read":
            read += 1
            intake.judged(sender, False)
    assert read <= 100 + 64 * 3                 # the budget, and each port's first few
    assert all(intake.admit(performer, 0.1) == "read" for _ in range(50))


def test_tables_stay_bounded_and_forget_the_longest_silent_first():
    intake = Intake(LOCAL, per_sender=10, budget=10)
    performer = ("127.0.0.1", 9000)
    intake.admit(performer, 0.0)
    intake.judged(performer, True)
    for i in range(3 * MAX_SENDERS):
        intake.admit(("127.0.0.1", 10000 + i), 0.0)
        if i % 100 == 0:
            intake.admit(performer, 0.0)        # heard from now and then: remembered
    assert len(intake.senders) <= MAX_SENDERS
    assert intake.standing(performer) == 1


def refuse(intake: Intake, sender, n: int, now: float = 0.0) -> list[bool]:
    """n datagrams from sender, each admitted and then refused: whether each got it barred."""
    barred = []
    for _ in range(n):
        assert intake.admit(sender, now) == "read"
        barred.append(intake.judged(sender, False))
    return barred


def test_a_sender_refused_again_and_again_is_barred_for_a_while():
    intake = Intake(LOCAL, per_sender=1e6, budget=1e6)
    sender = ("127.0.0.1", 7000)
    assert refuse(intake, sender, BAR_AFTER) == [False] * (BAR_AFTER - 1) + [True]
    assert intake.admit(sender, 0.0) == "barred" and sender in intake.barred
    assert intake.admit(("127.0.0.1", 7001), 0.0) == "read"          # only that port
    assert intake.lift(BAR_S / 2) == [] and intake.admit(sender, BAR_S / 2) == "barred"
    assert intake.lift(BAR_S) == [sender] and not intake.barred
    assert intake.admit(sender, BAR_S) == "read"                    # heard again: its fix gets through
    intake.judged(sender, True)
    assert not any(refuse(intake, sender, BAR_AFTER - 1, BAR_S))


def test_a_flood_that_outlasts_its_bar_is_barred_again_at_its_first_refusal():
    intake = Intake(LOCAL, per_sender=1e6, budget=1e6)
    sender = ("127.0.0.1", 7000)
    refuse(intake, sender, BAR_AFTER)
    assert intake.lift(BAR_S) == [sender]
    assert refuse(intake, sender, 1, BAR_S) == [True]
    assert intake.admit(sender, BAR_S) == "barred"


def test_a_patch_that_sends_some_good_among_its_bad_is_never_barred():
    intake = Intake(LOCAL, per_sender=1e6, budget=1e6)
    patch = ("127.0.0.1", 7000)
    for _ in range(20):
        assert not any(refuse(intake, patch, BAR_AFTER - 1))
        intake.admit(patch, 0.0)
        intake.judged(patch, True)
    assert not intake.barred and intake.bars == 0


def test_bars_are_bounded_by_what_the_kernel_filter_holds():
    intake = Intake(LOCAL, per_sender=1e6, budget=1e6)
    for port in range(MAX_BARRED + 10):
        intake.senders.clear()          # each port judged alone, as if it had been silent for long
        refuse(intake, ("127.0.0.1", 10000 + port), BAR_AFTER)
    assert len(intake.barred) == MAX_BARRED


def test_a_sender_in_bad_standing_left_unread_for_the_budget_is_barred_too():
    intake = Intake(LOCAL, per_sender=1e6, budget=1)
    sender = ("127.0.0.1", 7000)
    refuse(intake, sender, 3)                   # bad standing, and the budget's one datagram spent
    verdicts = [intake.admit(sender, 0.0) for _ in range(BAR_AFTER)]
    assert verdicts == ["budget"] * (BAR_AFTER - 3) + ["barred"] * 3
