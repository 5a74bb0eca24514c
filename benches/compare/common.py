"""What every Python tool script of the comparison shares: its command line,
query timing, the series phase's loop, and the one JSON line it prints for
compare.py.

Each script runs one phase of W1 (or of S1) for one tool, in a process of
its own (so compare.py can read that process's peak RSS):

    python tools/run_TOOL.py log    --store STORE --runs 200
    python tools/run_TOOL.py query  --store STORE --runs 5000 --reps 5
    python tools/run_TOOL.py series --store STORE --steps 1000000 --cap 600

and prints, as its last line on stdout, a JSON object: ``log_seconds`` for
the log phase; ``find_ms``, ``group_ms`` (one time per repetition),
``find_count`` and ``group`` (means keyed "false"/"true") for the query
phase; ``peak_rss_kib`` for both; for the series phase, what
``series_phase`` returns. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable, TypeVar

import s1

T = TypeVar("T")


def parse_args(doc: str, variants: tuple[str, ...] = ()) -> argparse.Namespace:
    """The scripts' shared command line."""
    parser = argparse.ArgumentParser(description=doc.strip().split("\n\n")[0])
    parser.add_argument("phase", choices=["log", "query", "series"])
    parser.add_argument("--store", required=True, help="MongoDB URI or directory")
    parser.add_argument("--runs", type=int, help="W1's log and query phases: how many runs")
    parser.add_argument("--steps", type=int, help="S1 (the series phase): how many steps")
    parser.add_argument("--cap", type=float, default=600.0,
                        help="S1: stop logging at the first 1,000th step past this many seconds")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions of each query")
    if variants:
        parser.add_argument("--variant", choices=variants, default=variants[0])
    return parser.parse_args()


def time_reps(reps: int, query: Callable[[], T]) -> tuple[list[float], T]:
    """Runs ``query`` once to warm up, then ``reps`` times, timing each (ms)
    until it returns (the previous answer is freed after the clock stops, as
    in the Rust harness); returns the times and the last answer."""
    answer = query()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        latest = query()
        times.append((time.perf_counter() - start) * 1e3)
        answer = latest
    return times, answer


def series_phase(
    values: list[float],
    cap: float,
    log_step: Callable[[int, float], None],
    read: Callable[[], tuple[list[int], list[float]]],
    around: Callable[[Callable[[], None]], Any] = lambda loop: loop(),
    flush: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """S1 for one tool: ``log_step(step, value)`` once per step, then
    ``flush()`` (a tool's last batch, its run's end), all inside
    ``around(loop)`` (a tool that runs the loop itself, like Sacred's
    ``ex.run``), timed as a whole; then ``read()`` (every point of the
    history, as steps and values) timed alone.

    The loop stops at the first multiple of s1.BATCH steps past ``cap``
    seconds (the clock is read once per batch, so the check costs nothing
    per step); the result says how many steps were logged, and its answers
    are those of these steps. Peak RSS is taken after logging, before the
    read; ``rss_before_kib`` is what the process held when the loop began
    (the interpreter, the tool's imports and the values to log)."""
    logged = len(values)

    def loop() -> None:
        nonlocal logged
        start = time.perf_counter()
        for step, value in enumerate(values):
            if step % s1.BATCH == 0 and step and time.perf_counter() - start > cap:
                logged = step
                break
            log_step(step, value)
        flush()

    rss_before = _status_kib("VmRSS")
    start = time.perf_counter()
    around(loop)
    log_seconds = time.perf_counter() - start
    log_peak = peak_rss_kib()
    start = time.perf_counter()
    steps, read_values = read()
    read_seconds = time.perf_counter() - start
    return {
        "steps": logged,
        "log_seconds": log_seconds,
        "read_seconds": read_seconds,
        "rss_before_kib": rss_before,
        "log_peak_rss_kib": log_peak,
        "read": s1.summary(steps, read_values),
        # Every point, not only the summary: steps 0.. in order, values bit
        # for bit (== on floats; S1 has no NaN).
        "exact": steps == list(range(logged)) and read_values == values[:logged],
    }


def peak_rss_kib() -> int | None:
    """This process's peak resident set size (VmHWM), in KiB. Read here
    rather than from the parent's wait4: a child's ru_maxrss also counts the
    parent's pages it was forked with before exec."""
    return _status_kib("VmHWM")


def _status_kib(field: str) -> int | None:
    """A memory field of /proc/self/status, in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def emit(result: dict[str, Any]) -> None:
    """Prints the result line compare.py reads (on the real stdout, past any
    capture a tool installed), with the process's peak RSS."""
    result = {**result, "peak_rss_kib": peak_rss_kib()}
    out = sys.__stdout__
    out.write(json.dumps(result) + "\n")
    out.flush()


def bool_key(value: Any) -> str:
    """A $group key as compare.py expects it: "false"/"true"."""
    if isinstance(value, str):
        return value.strip().lower()
    return "true" if value else "false"
