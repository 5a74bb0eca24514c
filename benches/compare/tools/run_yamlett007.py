"""W1 with the Python original, yamlett 0.0.7 (PyPI), on MongoDB.

yamlett 0.0.7 has no buffering: every ``run.store`` is two updates (the value,
then ``__yamlett__.last_modified_at``), and every call opens a new
``MongoClient`` (``Experiment.__getattr__``), so a store costs a client
start-up. The log phase stores the way its README does: ``params.model`` and
``data`` whole, one ``store`` per metric, one ``store(..., push=True)`` per
training step. Give it few runs.

The query phase populates with pymongo ``insert_many`` of the documents
yamlett 0.0.7 writes (its own write path would take hours for 5,000 runs),
then times ``Experiment.find`` / ``Experiment.aggregate`` as a user calls
them (each opens a client, as the tool does).

S1 (``series``): ``run.store("metrics.loss", v, push=True)`` per step, its
only way to record a history: the values go into an array inside the run
document (no step numbers: a point's step is its index), so the document
grows with every step toward MongoDB's 16 MiB limit. Read back with
``run.data()`` (the whole run document). The result also carries the run
document's BSON size, to show how far it is from that limit.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import common  # noqa: E402
import s1  # noqa: E402
import w1  # noqa: E402

LOG_EXPERIMENT = "w1"
QUERY_EXPERIMENT = "w1_query"


def log_phase(store: str, runs: list[dict]) -> dict:
    from yamlett import Run

    options = {"host": store}
    start = time.perf_counter()
    for data in runs:
        run = Run(experiment_name=LOG_EXPERIMENT, mongo_options=options)
        run.store("params.model", data["params"]["model"])
        run.store("data", data["data"])
        for name, value in data["metrics"].items():
            run.store(f"metrics.{name}", value)
        for loss in data["loss"]:
            run.store("metrics.loss", loss, push=True)
    return {"log_seconds": time.perf_counter() - start}


def query_phase(store: str, runs: list[dict], reps: int) -> dict:
    import pymongo
    from yamlett import Experiment

    start = time.perf_counter()
    now = datetime.datetime.now()
    documents = []
    for data in runs:
        document = {"_id": uuid.uuid4().hex, "__yamlett__": {"created_at": now, "last_modified_at": now}}
        document.update(w1.document(data))
        documents.append(document)
    with pymongo.MongoClient(store) as client:
        client.yamlett[QUERY_EXPERIMENT].insert_many(documents)
    populate_seconds = time.perf_counter() - start

    experiment = Experiment(QUERY_EXPERIMENT, mongo_options={"host": store})
    find_ms, found = common.time_reps(reps, lambda: list(experiment.find(w1.FIND_FILTER)))
    group_ms, groups = common.time_reps(reps, lambda: list(experiment.aggregate(w1.GROUP_PIPELINE)))
    return {
        "populate_seconds": populate_seconds,
        "populate_how": "pymongo insert_many of yamlett 0.0.7's documents",
        "find_ms": find_ms,
        "find_count": len(found),
        "group_ms": group_ms,
        "group": {common.bool_key(g["_id"]): g["mean_f1"] for g in groups},
    }


def series_phase(store: str, values: list[float], cap: float) -> dict:
    import bson
    import pymongo
    from yamlett import Run

    run = Run(experiment_name="s1", mongo_options={"host": store})

    def log_step(step: int, value: float) -> None:
        run.store(f"metrics.{s1.KEY}", value, push=True)

    def read() -> tuple[list[int], list[float]]:
        history = list(run.data()["metrics"][s1.KEY])
        return list(range(len(history))), history

    result = common.series_phase(values, cap, log_step, read)
    with pymongo.MongoClient(store) as client:
        document = client.yamlett["s1"].find_one({"_id": run.id}, {"_id": 0})
    result["document_bytes"] = len(bson.encode(document))
    return result


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
