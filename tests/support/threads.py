"""Callers released at once: one thread and one database connection each (PostgreSQL
concurrency tests)."""

import threading

from django.db import connections


def run_together(count: int, work) -> list:
    """Run work(i) in `count` threads released at once by a barrier; return each result
    (or the exception raised) and close every thread's database connection."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def target(i):
        try:
            barrier.wait(timeout=30)
            outcomes[i] = work(i)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a caller hung (lock wait?)"
    return outcomes
