"""Workload S1: one metric series of a long training run, logged one call per
step and read back whole.

One run, one metric (``loss``), steps ``0 .. steps-1`` logged with explicit
step numbers, one call per step; then the tool's own read API reads the
whole history back. The values are a slowly decaying loss with noise, from
one seeded ``random.Random``, so value ``i`` is the same whether 1,000 or
1,000,000 steps are asked for, and every tool logs exactly the same values
(the Python scripts import this module; the Rust binary reads the JSON it
writes, floats parsed back bit for bit).

A tool may stop early at the phase's time cap (see ``common.series_loop``);
the answers are then those of the steps it logged. ``expected(values)``
is the check every tool's read-back must pass exactly: the point count,
the first and last points, and the minimum and maximum values.

Stdlib only: it runs in every tool's virtualenv. As a script it writes the
values as JSON for the Rust binary:

    python s1.py --steps 1000000 --out target/compare/s1-1000000.json
"""

from __future__ import annotations

import argparse
import json
import math
import random
from typing import Any

SEED = 20_261_202
KEY = "loss"
# The steps logged between two writes by the rows that batch (MLflow's
# log_batch takes at most 1,000 metrics a call; yamlett's "one guard per
# 1,000 steps" row matches it).
BATCH = 1000


def make_values(steps: int) -> list[float]:
    """The loss at steps 0 .. steps-1: 2.5 decaying to ~0.1 over a million
    steps, plus half-normal noise (so the minimum is not simply the last
    step)."""
    rng = random.Random(SEED)
    return [2.4 * math.exp(-step / 250_000) + 0.1 + abs(rng.gauss(0.0, 0.05)) for step in range(steps)]


def expected(values: list[float]) -> dict[str, Any]:
    """What reading back the series must give: see ``summary``."""
    return summary(list(range(len(values))), values)


def summary(steps: list[int], values: list[float]) -> dict[str, Any]:
    """A read-back history as compare.py checks it: the point count, the
    first and last (step, value), and the minimum and maximum values."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "first": [steps[0], values[0]],
        "last": [steps[-1], values[-1]],
        "min": min(values),
        "max": max(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.out, "w") as f:
        # repr-exact floats: the Rust side parses them back bit for bit.
        json.dump(make_values(args.steps), f)


if __name__ == "__main__":
    main()
