"""W1 with MLflow (mlflow-skinny) on a SQLite tracking URI.

MLflow runs are flat: ``params.model.*`` and ``data.*`` become 32 params
named ``model.C``, ``data.n_observations``, ... whose values MLflow stores as
strings; the 20 metrics and the per-step loss are metrics.

Two variants of the log phase:

- ``per-value``: one ``log_param`` / ``log_metric`` call per value, the loss
  one ``log_metric(..., step=)`` per training step;
- ``batch``: ``log_params`` (32 params) and ``log_metrics`` (20 metrics) in
  one call each, and the whole loss history in one ``log_batch`` after
  training (so no step is stored until the run ends).

Queries use ``mlflow.search_runs`` filter strings. Params are strings, so
``data.n_observations >= 3000`` cannot be expressed on them: the find asks
the server for the other two predicates and applies that one client-side on
the returned DataFrame. MLflow has no aggregation: the ``$group`` is
``search_runs`` of every run, then a pandas ``groupby``. The query phase
populates with the batch path (``MlflowClient.log_batch`` of everything per
run).

S1 (``series``): one run, ``log_metric("loss", v, step=)`` per step
(``per-value``), or the steps collected in the training loop and sent by
``MlflowClient.log_batch`` every 1,000 steps, MLflow's limit per call
(``batch``); the run ends (``end_run``) inside the timed loop. Read back
with ``MlflowClient.get_metric_history`` (one ``Metric`` object per point),
sorted by step: MLflow does not promise an order.
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

# The two predicates MLflow's filter language can express on this data
# (params compare as strings: 'True', not a range on a number).
FIND_FILTER_STRING = "params.`model.fit_intercept` = 'True' and metrics.f1_score >= 0.9"


def setup(store: str, experiment: str) -> None:
    import mlflow

    os.makedirs(store, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{os.path.abspath(store)}/mlflow.db")
    mlflow.set_experiment(experiment)


def log_per_value(runs: list[dict]) -> None:
    import mlflow

    for data in runs:
        with mlflow.start_run():
            for name, value in w1.flat_params(data).items():
                mlflow.log_param(name, value)
            for name, value in data["metrics"].items():
                mlflow.log_metric(name, value)
            for step, loss in enumerate(data["loss"]):
                mlflow.log_metric("loss", loss, step=step)


def log_batched(runs: list[dict]) -> None:
    import mlflow
    from mlflow.entities import Metric

    client = mlflow.MlflowClient()
    for data in runs:
        with mlflow.start_run() as run:
            mlflow.log_params(w1.flat_params(data))
            mlflow.log_metrics(data["metrics"])
            now = int(time.time() * 1000)
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("loss", loss, now, step) for step, loss in enumerate(data["loss"])],
            )


def log_phase(store: str, runs: list[dict], variant: str) -> dict:
    setup(store, LOG_EXPERIMENT)
    start = time.perf_counter()
    (log_per_value if variant == "per-value" else log_batched)(runs)
    return {"log_seconds": time.perf_counter() - start}


def query_phase(store: str, runs: list[dict], reps: int) -> dict:
    import mlflow
    from mlflow.entities import Metric, Param, RunStatus

    setup(store, QUERY_EXPERIMENT)
    client = mlflow.MlflowClient()
    experiment_id = mlflow.get_experiment_by_name(QUERY_EXPERIMENT).experiment_id
    start = time.perf_counter()
    for data in runs:
        run_id = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(name, value, now, 0) for name, value in data["metrics"].items()]
        metrics += [Metric("loss", loss, now, step) for step, loss in enumerate(data["loss"])]
        params = [Param(name, str(value)) for name, value in w1.flat_params(data).items()]
        client.log_batch(run_id, metrics=metrics, params=params)
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    populate_seconds = time.perf_counter() - start

    def find():
        frame = mlflow.search_runs(experiment_names=[QUERY_EXPERIMENT], filter_string=FIND_FILTER_STRING)
        # The range predicate, client-side: MLflow params are strings.
        return frame[frame["params.data.n_observations"].astype(int) >= 3000]

    def group():
        frame = mlflow.search_runs(experiment_names=[QUERY_EXPERIMENT])
        return frame.groupby("params.model.fit_intercept")["metrics.f1_score"].mean()

    find_ms, found = common.time_reps(reps, find)
    group_ms, groups = common.time_reps(reps, group)
    return {
        "populate_seconds": populate_seconds,
        "populate_how": "MlflowClient.log_batch of the whole run",
        "find_ms": find_ms,
        "find_count": len(found),
        "group_ms": group_ms,
        "group": {common.bool_key(key): float(mean) for key, mean in groups.items()},
    }


def series_phase(store: str, values: list[float], cap: float, variant: str) -> dict:
    import mlflow
    from mlflow.entities import Metric

    setup(store, "s1")
    client = mlflow.MlflowClient()
    run_id = mlflow.start_run().info.run_id
    pending: list[Metric] = []

    def log_per_value(step: int, value: float) -> None:
        mlflow.log_metric(s1.KEY, value, step=step)

    def log_batched(step: int, value: float) -> None:
        pending.append(Metric(s1.KEY, value, int(time.time() * 1000), step))
        if len(pending) == s1.BATCH:
            send()

    def send() -> None:
        if pending:
            client.log_batch(run_id, metrics=pending)
            pending.clear()

    def finish() -> None:
        send()
        mlflow.end_run()

    def read() -> tuple[list[int], list[float]]:
        history = sorted(client.get_metric_history(run_id, s1.KEY), key=lambda m: m.step)
        return [m.step for m in history], [m.value for m in history]

    log_step = log_per_value if variant == "per-value" else log_batched
    return common.series_phase(values, cap, log_step, read, flush=finish)


def main() -> None:
    args = common.parse_args(__doc__, variants=("per-value", "batch"))
    if args.phase == "series":
        common.emit(series_phase(args.store, s1.make_values(args.steps), args.cap, args.variant))
        return
    runs = w1.make_runs(args.runs)
    if args.phase == "log":
        common.emit(log_phase(args.store, runs, args.variant))
    else:
        common.emit(query_phase(args.store, runs, args.reps))


if __name__ == "__main__":
    main()
