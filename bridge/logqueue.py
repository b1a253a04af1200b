"""Logging that never blocks the thread that logs.

A log call only puts the record on a bounded queue; one logging thread formats and writes it. A
terminal nobody scrolls, or a pipe nobody reads, then stalls that thread alone: the queue fills,
and further records are dropped and counted (the dashboard shows the count) instead of waiting.
"""
from __future__ import annotations

import logging
import queue
import threading

CAPACITY = 1000


class DroppingQueueHandler(logging.Handler):
    """Puts records on a queue as they are (formatting is the logging thread's job); a full queue
    drops the record and counts it."""

    def __init__(self, records: queue.Queue):
        super().__init__()
        self.records = records
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class LogThread:
    """The one thread that formats and writes log records, to `handlers`."""

    def __init__(self, handlers: list[logging.Handler], capacity: int = CAPACITY):
        self.records: queue.Queue = queue.Queue(capacity)
        self.handler = DroppingQueueHandler(self.records)
        self.handlers = handlers
        self.beat = 0                      # records written: the watchdog sees it move
        self._thread = threading.Thread(target=self._run, name="log", daemon=True)

    @property
    def dropped(self) -> int:
        return self.handler.dropped

    def start(self) -> "LogThread":
        self._thread.start()
        return self

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            record = self.records.get()
            if record is None:
                return
            for handler in self.handlers:
                if record.levelno >= handler.level:
                    try:
                        handler.handle(record)
                    except Exception:     # a handler that breaks must not end the logging
                        self.handler.dropped += 1
            self.beat += 1

    def stop(self, timeout: float = 2.0) -> None:
        """Write what is queued (for up to `timeout` seconds), then end the thread; records logged
        after this go nowhere through it (the root logger no longer holds its handler)."""
        global _current
        logging.getLogger().removeHandler(self.handler)
        if _current is self:
            _current = None
        try:
            self.records.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)


_current: LogThread | None = None


def install(handlers: list[logging.Handler], level: int = logging.INFO) -> LogThread:
    """Route every log record through one queue and one logging thread."""
    global _current
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    _current = LogThread(handlers).start()
    root.addHandler(_current.handler)
    root.setLevel(level)
    return _current


def current() -> LogThread | None:
    """The installed logging thread, if `install` was called (the command line does)."""
    return _current
