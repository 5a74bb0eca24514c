"""W1 with Sacred 0.8.7 and its MongoObserver, written the way a Sacred user
writes it.

Per run: ``ex.run(config_updates={"model": ..., "data": ...})`` (params and
data are Sacred's config), ``_run.log_scalar("loss", v, step)`` once per
training step, and the 20 metrics returned from the main function (Sacred
stores the return value as the run's ``result``, where queries can reach
it). Sacred's defaults are kept (source capture, host info, stdout capture,
10 s heartbeat): its observer buffers ``log_scalar`` values and writes them
at heartbeats and at the end, so a step is not durable when the call
returns.

Queries go through pymongo on Sacred's ``runs`` collection (Sacred has no
query API of its own): ``config.model.fit_intercept``,
``config.data.n_observations`` and ``result.f1_score``. The query phase
populates with one genuine ``ex.run`` and ``insert_many`` of clones of its
documents (see ``query_phase``).

S1 (``series``): one ``ex.run`` whose main function calls
``_run.log_scalar("loss", v, step)`` per step, timed as a whole (the
observer's last write happens as the run completes). Read back the way
Sacred stores metrics: the ``metrics`` collection's document for the run
and name (``steps`` and ``values`` arrays, one ``$push`` per heartbeat).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import common  # noqa: E402
import s1  # noqa: E402
import w1  # noqa: E402

LOG_DATABASE = "sacred_w1"
QUERY_DATABASE = "sacred_w1_query"
SERIES_DATABASE = "sacred_s1"

FIND_FILTER = {
    "config.model.fit_intercept": True,
    "config.data.n_observations": {"$gte": 3000},
    "result.f1_score": {"$gte": 0.9},
}
GROUP_PIPELINE = [
    {"$group": {"_id": "$config.model.fit_intercept", "mean_f1": {"$avg": "$result.f1_score"}}},
    {"$sort": {"_id": 1}},
]


def make_experiment(store: str, database: str, first: dict):
    """The Sacred experiment: W1's first run as the default config, a main
    function that logs the current run's loss and returns its metrics."""
    from sacred import Experiment
    from sacred.observers import MongoObserver

    ex = Experiment("w1")
    ex.add_config(model=first["params"]["model"], data=first["data"])
    ex.observers.append(MongoObserver(url=store, db_name=database))
    current: dict = {}

    @ex.main
    def train(_run, model, data):
        for step, loss in enumerate(current["loss"]):
            _run.log_scalar("loss", loss, step)
        return current["metrics"]

    def run(data: dict):
        current.clear()
        current.update(data)
        return ex.run(config_updates={"model": data["params"]["model"], "data": data["data"]})

    return run


def log_phase(store: str, runs: list[dict]) -> dict:
    run = make_experiment(store, LOG_DATABASE, runs[0])
    start = time.perf_counter()
    for data in runs:
        run(data)
    return {"log_seconds": time.perf_counter() - start}


def query_phase(store: str, runs: list[dict], reps: int) -> dict:
    import copy

    import pymongo
    from bson import ObjectId

    # Sacred's own path slows down as runs accumulate on the test server (its
    # observer finds the next run id by sorting all ids, which SecantusDB
    # does with a scan) and would take hours for 5,000 runs. So: run 0 goes
    # through Sacred, and runs 1.. are clones of that genuine document (and
    # of its loss document in `metrics`), inserted with insert_many.
    with pymongo.MongoClient(store) as client:
        client.drop_database(QUERY_DATABASE)
    start = time.perf_counter()
    first = make_experiment(store, QUERY_DATABASE, runs[0])(runs[0])._id
    with pymongo.MongoClient(store) as client:
        database = client[QUERY_DATABASE]
        template = database.runs.find_one({"_id": first})
        metric_template = database.metrics.find_one({"run_id": first})
        documents, metrics = [], []
        for i, data in enumerate(runs[1:], start=first + 1):
            metric = copy.deepcopy(metric_template)
            metric.update(_id=ObjectId(), run_id=i, values=list(data["loss"]))
            config = {"model": data["params"]["model"], "data": data["data"]}
            document = copy.deepcopy(template)
            document.update(_id=i, result=dict(data["metrics"]))
            document["config"].update(config)
            document["meta"]["config_updates"] = config
            document["info"]["metrics"] = [{"name": "loss", "id": str(metric["_id"])}]
            documents.append(document)
            metrics.append(metric)
        database.runs.insert_many(documents)
        database.metrics.insert_many(metrics)
    populate_seconds = time.perf_counter() - start

    with pymongo.MongoClient(store) as client:
        collection = client[QUERY_DATABASE].runs
        find_ms, found = common.time_reps(reps, lambda: list(collection.find(FIND_FILTER)))
        group_ms, groups = common.time_reps(reps, lambda: list(collection.aggregate(GROUP_PIPELINE)))
    return {
        "populate_seconds": populate_seconds,
        "populate_how": "run 0 by ex.run, then insert_many of clones of its documents",
        "find_ms": find_ms,
        "find_count": len(found),
        "group_ms": group_ms,
        "group": {common.bool_key(g["_id"]): g["mean_f1"] for g in groups},
    }


def series_phase(store: str, values: list[float], cap: float) -> dict:
    import pymongo
    from sacred import Experiment
    from sacred.observers import MongoObserver

    ex = Experiment("s1")
    ex.observers.append(MongoObserver(url=store, db_name=SERIES_DATABASE))
    finished = {}

    @ex.main
    def train(_run):
        finished["run_id"] = _run._id
        finished["loop"]()

    def around(loop) -> None:
        finished["loop"] = loop
        ex.run()

    def log_step(step: int, value: float) -> None:
        ex.current_run.log_scalar(s1.KEY, value, step)

    def read() -> tuple[list[int], list[float]]:
        with pymongo.MongoClient(store) as client:
            metric = client[SERIES_DATABASE].metrics.find_one({"run_id": finished["run_id"], "name": s1.KEY})
        return (metric["steps"], metric["values"]) if metric else ([], [])

    return common.series_phase(values, cap, log_step, read, around=around)


def main() -> None:
    import logging

    # Sacred logs two INFO lines per run to stderr; keep its warnings.
    logging.basicConfig(level=logging.WARNING)
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
