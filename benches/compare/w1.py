"""Workload W1: the data every tool of the comparison logs, and its queries.

One run of W1 is what a small training script records:

- ``params.model``: 30 hyper-parameters of mixed types (ints, floats, bools,
  strings), among them ``fit_intercept``;
- ``data``: ``n_features`` and ``n_observations``;
- ``metrics``: 20 scalar metrics, among them ``f1_score``;
- ``loss``: a 100-step training loss, logged one value per step.

That is 30 + 2 + 20 + 100 = 152 logged values per run.

Run ``i`` is generated from its own seeded ``random.Random``, so run ``i`` is
the same whether 5, 200 or 5,000 runs are asked for, and every tool (Python
scripts import this module, the Rust binary reads the JSON it writes) logs
exactly the same values.

The query phase asks the seed's 3-predicate find and a ``$group``:

- ``params.model.fit_intercept == true and data.n_observations >= 3000 and
  metrics.f1_score >= 0.9`` (about 10 % of the runs);
- the average ``metrics.f1_score`` grouped by ``params.model.fit_intercept``.

``expected(runs)`` computes both answers in plain Python, so the harness can
check every tool's answers.

Stdlib only: it runs in every tool's virtualenv. As a script it writes the
runs as JSON for the Rust binary:

    python w1.py --runs 200 --out target/compare/w1-200.json
"""

from __future__ import annotations

import argparse
import json
import math
import random
from typing import Any

SEED = 20_240_601
STEPS = 100
VALUES_PER_RUN = 30 + 2 + 20 + STEPS

# The find and $group of the query phase, as MongoDB filter and pipeline
# (tools without MongoDB's query language translate them; see their scripts).
FIND_FILTER = {
    "params.model.fit_intercept": True,
    "data.n_observations": {"$gte": 3000},
    "metrics.f1_score": {"$gte": 0.9},
}
GROUP_PIPELINE = [
    {"$group": {"_id": "$params.model.fit_intercept", "mean_f1": {"$avg": "$metrics.f1_score"}}},
    {"$sort": {"_id": 1}},
]

_MODEL_TYPES = ["LogisticRegression", "RidgeClassifier", "LinearSVC", "SGDClassifier"]
_PENALTIES = ["l2", "l1", "elasticnet", "none"]
_SOLVERS = ["lbfgs", "liblinear", "saga", "newton-cg", "sag"]
_CLASS_WEIGHTS = ["balanced", "none"]
_LOSSES = ["log_loss", "hinge", "modified_huber", "squared_hinge"]
_SCHEDULES = ["constant", "optimal", "invscaling", "adaptive"]

METRIC_NAMES = [
    "f1_score", "accuracy", "precision", "recall", "roc_auc", "average_precision",
    "log_loss", "brier_score", "balanced_accuracy", "mcc", "cohen_kappa", "hamming_loss",
    "jaccard", "top2_accuracy", "train_accuracy", "train_f1", "val_loss", "val_accuracy",
    "fit_time", "predict_time",
]


def _model(rng: random.Random) -> dict[str, Any]:
    """30 hyper-parameters: 2 leading strings/bools the queries use, then the rest."""
    return {
        "type": rng.choice(_MODEL_TYPES),                   # str
        "fit_intercept": rng.random() < 0.5,                # bool
        "C": 10 ** rng.uniform(-3, 2),                      # float
        "penalty": rng.choice(_PENALTIES),                  # str
        "solver": rng.choice(_SOLVERS),                     # str
        "max_iter": rng.choice([100, 200, 500, 1000]),      # int
        "tol": 10 ** rng.uniform(-6, -2),                   # float
        "l1_ratio": rng.random(),                           # float
        "dual": rng.random() < 0.2,                         # bool
        "warm_start": rng.random() < 0.3,                   # bool
        "class_weight": rng.choice(_CLASS_WEIGHTS),         # str
        "random_state": rng.randrange(0, 2**31),            # int
        "n_jobs": rng.choice([1, 2, 4, 8]),                 # int
        "verbose": rng.randrange(0, 3),                     # int
        "intercept_scaling": rng.uniform(0.5, 2.0),         # float
        "alpha": 10 ** rng.uniform(-5, -1),                 # float
        "learning_rate": rng.choice(_SCHEDULES),            # str
        "eta0": rng.uniform(0.001, 0.1),                    # float
        "power_t": rng.uniform(0.1, 0.9),                   # float
        "early_stopping": rng.random() < 0.5,               # bool
        "validation_fraction": rng.uniform(0.05, 0.3),      # float
        "n_iter_no_change": rng.randrange(3, 20),           # int
        "shuffle": rng.random() < 0.9,                      # bool
        "average": rng.random() < 0.1,                      # bool
        "loss": rng.choice(_LOSSES),                        # str
        "epsilon": rng.uniform(0.01, 0.5),                  # float
        "batch_size": rng.choice([16, 32, 64, 128, 256]),   # int
        "epochs": STEPS,                                    # int
        "momentum": rng.uniform(0.0, 0.99),                 # float
        "nesterovs_momentum": rng.random() < 0.5,           # bool
    }


def make_run(i: int) -> dict[str, Any]:
    """Run ``i`` of W1: params, data, metrics and the per-step loss."""
    rng = random.Random(SEED * 1_000_003 + i)
    model = _model(rng)
    assert len(model) == 30
    data = {"n_features": rng.randrange(10, 200), "n_observations": rng.randrange(1000, 5001)}
    # f1 in [0.75, 0.98], a little better with an intercept, so the $group
    # has two different means and the find keeps roughly 40 % of f1 values.
    f1 = min(0.98, rng.uniform(0.75, 0.97) + (0.02 if model["fit_intercept"] else 0.0))
    metrics: dict[str, Any] = {"f1_score": f1}
    for name in METRIC_NAMES[1:]:
        if name.endswith("_time"):
            metrics[name] = rng.uniform(0.01, 5.0)
        elif "loss" in name or name == "brier_score":
            metrics[name] = rng.uniform(0.05, 0.7)
        else:
            metrics[name] = min(1.0, max(0.0, f1 + rng.gauss(0.0, 0.03)))
    assert list(metrics) == METRIC_NAMES
    # A decaying loss with noise, one value per training step.
    start, rate = rng.uniform(0.6, 1.2), rng.uniform(0.01, 0.05)
    loss = [start * math.exp(-rate * t) + abs(rng.gauss(0.0, 0.01)) for t in range(STEPS)]
    return {"params": {"model": model}, "data": data, "metrics": metrics, "loss": loss}


def make_runs(n: int) -> list[dict[str, Any]]:
    """Runs 0 .. n-1."""
    return [make_run(i) for i in range(n)]


def flat_params(run: dict[str, Any]) -> dict[str, Any]:
    """params.model.* and data.* as flat dotted keys: the 32 'params' of
    flat key/value trackers (MLflow)."""
    flat = {f"model.{k}": v for k, v in run["params"]["model"].items()}
    flat.update({f"data.{k}": v for k, v in run["data"].items()})
    return flat


def document(run: dict[str, Any]) -> dict[str, Any]:
    """The run as the nested document yamlett stores (loss under metrics)."""
    metrics = dict(run["metrics"])
    metrics["loss"] = list(run["loss"])
    return {"params": run["params"], "data": run["data"], "metrics": metrics}


def matches(run: dict[str, Any]) -> bool:
    """FIND_FILTER in plain Python."""
    return (
        run["params"]["model"]["fit_intercept"] is True
        and run["data"]["n_observations"] >= 3000
        and run["metrics"]["f1_score"] >= 0.9
    )


def expected(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The right answers: the find's count and the $group's means by
    fit_intercept (keys 'false'/'true')."""
    groups: dict[str, list[float]] = {"false": [], "true": []}
    for run in runs:
        key = "true" if run["params"]["model"]["fit_intercept"] else "false"
        groups[key].append(run["metrics"]["f1_score"])
    return {
        "find_count": sum(1 for run in runs if matches(run)),
        "group": {k: sum(v) / len(v) for k, v in groups.items() if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.out, "w") as f:
        # repr-exact floats: the Rust side parses them back bit for bit.
        json.dump(make_runs(args.runs), f)


if __name__ == "__main__":
    main()
