"""computed_once: threads that miss the cache at once compute its value once (diagnose --running's case)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from drsdoctor.cache import computed_once

THREADS = 8


def test_threads_missing_at_once_share_one_computation() -> None:
    entered: list[int] = []
    everyone_in = threading.Event()  # set only if every thread got into the computation: the lock failed
    start = threading.Barrier(THREADS)

    @computed_once(maxsize=1)
    def parse(text: str) -> dict[str, str]:
        entered.append(1)
        if len(entered) == THREADS:
            everyone_in.set()
        everyone_in.wait(timeout=0.2)  # a plain lru_cache lets all the others in meanwhile
        return {"parsed": text}

    def ask() -> dict[str, str]:
        start.wait()
        return parse("template")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = [future.result() for future in [pool.submit(ask) for _ in range(THREADS)]]
    assert len(entered) == 1
    assert all(answer is answers[0] for answer in answers)


def test_a_recursive_cached_function_does_not_deadlock() -> None:
    @computed_once()
    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(50) == 50
