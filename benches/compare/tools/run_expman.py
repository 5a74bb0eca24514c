"""W1 with expman-rs 1.3 (PyPI ``expman-rs``, imported as ``expman``): a Rust
engine writing YAML and Parquet files under ``experiments/``.

Its writes are asynchronous: every call hands the value to a background
task and returns; files are written in batches (every 50 rows or 500 ms)
and at ``close()``, so nothing is durable when a call returns. Per run:
``log_params`` with the 32 params as flat dotted keys (expman stores a
nested dict as its Python repr string, so params are flattened to stay
typed), one ``log_scalar`` per metric, one ``log_vector({"loss": v},
step=)`` per training step. Every run gets an explicit ``run_name``: the
default name is a timestamp to the second, and runs started within the
same second overwrite each other.

expman has no query language. Queries are done the way its read API is
documented: ``expman.load_runs(experiment=...)`` (run metadata with its
scalars) plus ``expman.load_config(path)`` per run (the params), filtered
and grouped in Python. The query phase populates with the same calls as the
log phase (its fastest path: the writes are asynchronous anyway).

S1 (``series``): one run, ``log_vector({"loss": v}, step=)`` per step (as
W1 logs its loss), closed inside the timed loop (``close()`` flushes what
the background task still holds). Read back with ``expman.read_metrics``
(the run's Parquet metrics as row dicts: ``step``, ``timestamp``,
``loss``), its documented read API.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import common  # noqa: E402
import s1  # noqa: E402
import w1  # noqa: E402

LOG_EXPERIMENT = "w1"
QUERY_EXPERIMENT = "w1_query"


def log_runs(base_dir: str, experiment: str, runs: list[dict]) -> None:
    import expman

    for i, data in enumerate(runs):
        with expman.Experiment(experiment, run_name=f"run-{i:05d}", base_dir=base_dir) as exp:
            exp.log_params(w1.flat_params(data))
            for name, value in data["metrics"].items():
                exp.log_scalar(name, value)
            for step, loss in enumerate(data["loss"]):
                exp.log_vector({"loss": loss}, step=step)


def log_phase(store: str, runs: list[dict]) -> dict:
    start = time.perf_counter()
    log_runs(store, LOG_EXPERIMENT, runs)
    return {"log_seconds": time.perf_counter() - start}


def query_phase(store: str, runs: list[dict], reps: int) -> dict:
    import expman

    start = time.perf_counter()
    log_runs(store, QUERY_EXPERIMENT, runs)
    populate_seconds = time.perf_counter() - start

    def load() -> list[tuple[dict, dict]]:
        """Every run's metadata (with scalars) and its config."""
        loaded = expman.load_runs(base_dir=store, experiment=QUERY_EXPERIMENT)
        return [(run, expman.load_config(run["path"])) for run in loaded]

    def find() -> list[tuple[dict, dict]]:
        return [
            (run, config)
            for run, config in load()
            if config.get("model.fit_intercept") is True
            and config.get("data.n_observations", 0) >= 3000
            and (run["scalars"] or {}).get("f1_score", 0.0) >= 0.9
        ]

    def group() -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for run, config in load():
            key = common.bool_key(config.get("model.fit_intercept"))
            sums.setdefault(key, []).append(run["scalars"]["f1_score"])
        return {key: sum(values) / len(values) for key, values in sorted(sums.items())}

    find_ms, found = common.time_reps(reps, find)
    group_ms, groups = common.time_reps(reps, group)
    return {
        "populate_seconds": populate_seconds,
        "populate_how": "the log phase's calls",
        "find_ms": find_ms,
        "find_count": len(found),
        "group_ms": group_ms,
        "group": groups,
    }


def series_phase(store: str, values: list[float], cap: float) -> dict:
    import expman

    exp = expman.Experiment("s1", run_name="run-00000", base_dir=store)
    run_dir = str(exp.run_dir)  # not available once closed

    def log_step(step: int, value: float) -> None:
        exp.log_vector({s1.KEY: value}, step=step)

    def read() -> tuple[list[int], list[float]]:
        rows = expman.read_metrics(run_dir)
        return [row["step"] for row in rows], [row[s1.KEY] for row in rows]

    return common.series_phase(values, cap, log_step, read, flush=exp.close)


def main() -> None:
    args = common.parse_args(__doc__)
    if args.phase == "series":
        common.emit(series_phase(args.store, s1.make_values(args.steps), args.cap))
        return
    runs = w1.make_runs(args.runs)
    if args.phase == "log":
        common.emit(log_phase(args.store, runs))
    else:
        common.emit(query_phase(args.store, runs, args.reps))


if __name__ == "__main__":
    main()
