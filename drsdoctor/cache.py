"""A cache for the costly values `diagnose --running`'s threads all ask for (a parsed template, a YAML table).

functools.lru_cache alone lets every thread that misses at once compute the same value again: eight threads
parsed drs_needs.yaml eight times. Here the first thread computes and the others wait for its answer.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def computed_once(maxsize: int | None = None) -> Callable[[F], F]:
    """lru_cache(maxsize), with one computation at a time per function (cheap once cached)."""

    def wrap(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        lock = threading.RLock()  # re-entrant: a cached function may call itself (a recursive decoder)

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return cached(*args, **kwargs)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return wrap
