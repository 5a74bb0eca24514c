"""What every Python tool script of the comparison shares: its command line,
query timing, and the one JSON line it prints for compare.py.

Each script runs one phase of W1 for one tool, in a process of its own (so
compare.py can read that process's peak RSS):

    python tools/run_TOOL.py log   --store STORE --runs 200
    python tools/run_TOOL.py query --store STORE --runs 5000 --reps 5

and prints, as its last line on stdout, a JSON object: ``log_seconds`` for
the log phase; ``find_ms``, ``group_ms`` (one time per repetition),
``find_count`` and ``group`` (means keyed "false"/"true") for the query
phase; ``peak_rss_kib`` for both. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def parse_args(doc: str, variants: tuple[str, ...] = ()) -> argparse.Namespace:
    """The scripts' shared command line."""
    parser = argparse.ArgumentParser(description=doc.strip().split("\n\n")[0])
    parser.add_argument("phase", choices=["log", "query"])
    parser.add_argument("--store", required=True, help="MongoDB URI or directory")
    parser.add_argument("--runs", type=int, required=True)
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


def peak_rss_kib() -> int | None:
    """This process's peak resident set size (VmHWM), in KiB. Read here
    rather than from the parent's wait4: a child's ru_maxrss also counts the
    parent's pages it was forked with before exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
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
