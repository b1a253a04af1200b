import logging
import threading

from bridge.logqueue import LogThread


class Blocked(logging.Handler):
    """A handler stuck like a terminal nobody reads."""

    def __init__(self):
        super().__init__()
        self.go = threading.Event()
        self.seen = []

    def emit(self, record):
        self.go.wait()
        self.seen.append(record.getMessage())


def test_a_stuck_writer_never_blocks_the_thread_that_logs():
    stuck = Blocked()
    logs = LogThread([stuck], capacity=10).start()
    logger = logging.getLogger("test_logqueue")
    logger.propagate = False
    logger.addHandler(logs.handler)
    try:
        for i in range(1000):                    # returns at once, though nothing is written
            logger.warning("line %d", i)
        assert 980 <= logs.dropped <= 990        # the queue's 10, and the one being written, are kept
        stuck.go.set()
        logs.stop()
        assert stuck.seen[0] == "line 0" and len(stuck.seen) == 1000 - logs.dropped
    finally:
        logger.removeHandler(logs.handler)


def test_a_broken_handler_does_not_end_the_logging_thread():
    class Broken(logging.Handler):
        def emit(self, record):
            raise RuntimeError("disk full")
    good = Blocked()
    good.go.set()
    logs = LogThread([Broken(), good]).start()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "still here", (), None)
    logs.handler.emit(record)
    logs.stop()
    assert good.seen == ["still here"] and not logs.is_alive()
