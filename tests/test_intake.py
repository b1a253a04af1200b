import ipaddress

from bridge.intake import MAX_SENDERS, Intake

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
