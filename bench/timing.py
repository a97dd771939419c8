"""Latency samples and their percentiles (linear interpolation between closest ranks)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Latency:
    """Seconds."""

    p50: float
    p95: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        return cls(p50=percentile(samples, 0.5), p95=percentile(samples, 0.95), n=len(samples))

    def to_json(self) -> dict[str, float]:
        return {"p50_ms": self.p50 * 1000, "p95_ms": self.p95 * 1000, "n": self.n}


async def timed(work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")
