"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import subprocess
import time


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time in seconds of ``number`` calls of ``fn`` over ``repeat`` repetitions."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def report(name: str, seconds: float, baseline_name: str, baseline_seconds: float,
           target: str = "") -> None:
    """Print one benchmark line: time, baseline time, ratio (baseline / ours), target."""
    ratio = baseline_seconds / seconds if seconds > 0 else float("inf")
    print(f"{name}: {seconds * 1e3:.2f} ms | baseline {baseline_name}: "
          f"{baseline_seconds * 1e3:.2f} ms | speed-up x{ratio:.1f}" + (f" | target {target}" if target else ""))


def wall_time(argv: list[str], repeat: int = 3) -> float:
    """Best wall time in seconds of running the command ``argv`` (start-up included)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best
