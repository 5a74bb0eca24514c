"""Runs workload S1 (see s1.py) with every tool of the comparison and prints
one markdown table (also written to target/compare/latest-s1.md, with the
raw numbers in target/compare/latest-s1.json).

Called by compare.py when COMPARE_PHASES names s1; it reuses compare.py's
test servers and child processes. Each row is one process: it logs the
series one call per step (timed inside the process, around the logging
loop only), then reads the whole history back through the tool's read API
(timed alone) and reports what it read, which is checked here against
s1.expected() of the steps it logged.

Knobs: COMPARE_SERIES_STEPS (1,000,000: every row's step count),
COMPARE_SERIES_STEPS_OF (per-row counts, e.g. "mlflow=20000,py-yamlett=500",
for tools far too slow for a million calls), COMPARE_SERIES_CAP (600: a row
stops logging at the first 1,000th step past this many seconds, and its
answers are those of the steps it logged), COMPARE_ROUNDS (each row this many
times, the order of the rows reversed every round; medians), COMPARE_ONLY.
A row that logs fewer steps than COMPARE_SERIES_STEPS shows what it did and,
marked as such, the linear extrapolation of its per-step cost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import s1
from compare import HERE, Server, fmt, machine, median, opcounters, ratio, run_child

# MongoDB's limit on a document, which yamlett 0.0.7's history lives in.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


@dataclass
class Row:
    """One row of the S1 table."""

    key: str  # matches W1's row keys, so COMPARE_ONLY selects both
    label: str
    cmd: list[str]  # without the store, the step count and the cap
    store: str  # "local", "mongo", "sqlite" or "files"
    how: str  # what one step's call is and what a read is
    notes: list[str] = field(default_factory=list)


def run_s1(args: argparse.Namespace) -> None:
    versions = json.loads(args.versions)
    started = time.time()
    header = machine()
    work = os.path.join(args.out, "work-s1")
    logs = os.path.join(args.out, "logs-s1")
    for directory in (work, logs):
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)

    def py(venv: str, script: str, *extra: str) -> list[str]:
        return [os.path.join(args.venvs, venv, "bin", "python"), os.path.join(HERE, "tools", script), "series", *extra]

    yamlett = f"yamlett {versions['yamlett']} (Rust)"
    rows = [
        Row("yamlett-local", f"{yamlett}, embedded store, guard per step", [args.bin, "series", "step"], "local",
            "`{ let _g = run.enter(); run.log_at(\"metrics.loss\", step, v)?; }` per step: durable when the "
            "guard drops (one append to the write log); read: `Experiment::series`"),
        Row("yamlett-local-batch", f"{yamlett}, embedded store, guard per 1,000 steps", [args.bin, "series", "batch"],
            "local", "`run.log_at` per step inside one guard per 1,000 steps (buffered, one write per guard, "
            "like the rows that batch); read: `Experiment::series`"),
        Row("yamlett-mongo", f"{yamlett}, MongoDB, guard per step", [args.bin, "series", "step"], "mongo",
            "as the embedded row: one `bulkWrite` (run summary + bucket) per step; read: `Experiment::series`"),
        Row("yamlett-mongo-batch", f"{yamlett}, MongoDB, guard per 1,000 steps", [args.bin, "series", "batch"],
            "mongo", "one guard per 1,000 steps: one `bulkWrite` per guard; read: `Experiment::series`"),
        Row("py-yamlett", f"yamlett {versions['yamlett007']} (Python)", py("venv-yamlett007", "run_yamlett007.py"),
            "mongo", "`run.store(\"metrics.loss\", v, push=True)` per step (its only way: a new MongoClient "
            "and 2 updates per call; the history is an array in the run document, no step numbers); "
            "read: `run.data()`"),
        Row("sacred", f"Sacred {versions['sacred']}, MongoObserver", py("venv-sacred", "run_sacred.py"), "mongo",
            "`_run.log_scalar(\"loss\", v, step)` per step in one `ex.run` (buffered, `$push`ed to one "
            "`metrics` document per heartbeat, 10 s, and at the end); read: that document (pymongo)",
            notes=["steps not durable when logged"]),
        Row("mlflow", f"MLflow {versions['mlflow']} (skinny), SQLite, per step",
            py("venv-mlflow", "run_mlflow.py", "--variant", "per-value"), "sqlite",
            "`mlflow.log_metric(\"loss\", v, step=step)` per step (one SQLite commit each); "
            "read: `MlflowClient.get_metric_history`, sorted by step"),
        Row("mlflow-batch", f"MLflow {versions['mlflow']} (skinny), SQLite, log_batch per 1,000 steps",
            py("venv-mlflow", "run_mlflow.py", "--variant", "batch"), "sqlite",
            "`Metric`s collected in the loop, `MlflowClient.log_batch` every 1,000 steps (its limit per call); "
            "read: `get_metric_history`, sorted by step", notes=["steps not durable until their batch is sent"]),
        Row("expman", f"expman-rs {versions['expman']} (Python API), files", py("venv-expman", "run_expman.py"),
            "files", "`exp.log_vector({\"loss\": v}, step=step)` per step (handed to a background task, written "
            "to Parquet in batches), `close()` at the end; read: `expman.read_metrics`",
            notes=["asynchronous writes: nothing durable when a call returns"]),
    ]
    if args.only:
        keep = set(args.only.split(","))
        rows = [row for row in rows if row.key in keep]

    steps_of = {row.key: args.series_steps for row in rows}
    for item in filter(None, args.series_steps_of.split(",")):
        key, _, count = item.partition("=")
        if key not in steps_of:
            sys.exit(f"COMPARE_SERIES_STEPS_OF: no row {key!r} (rows: {', '.join(steps_of)})")
        steps_of[key] = int(count)
    # The Rust binary reads the values from JSON; the Python tools generate them in-process.
    values_json = {}
    for n in set(steps_of.values()):
        values_json[n] = os.path.join(args.out, f"s1-{n}.json")
        with open(values_json[n], "w") as f:
            json.dump(s1.make_values(n), f)

    env = dict(os.environ)
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONUNBUFFERED="1")
    results: dict[str, list[dict[str, Any]]] = {row.key: [] for row in rows}
    rounds = [rows if r % 2 == 0 else rows[::-1] for r in range(max(args.rounds, 1))]
    for number, order in enumerate(rounds):
        for row in order:
            print(f"== S1 {row.key} (round {number + 1} of {len(rounds)})", file=sys.stderr, flush=True)
            steps, cap = steps_of[row.key], str(args.series_cap)
            row_work = os.path.join(work, row.key, f"round-{number + 1}")
            server = Server(args.server, work) if row.store == "mongo" else None
            try:
                if server is not None:
                    uri = server.start([args.bin, "opcounters"])
                    store = server.uri("yamlett_s1" if row.cmd[0] == args.bin else "")
                    before = opcounters(args.bin, uri)
                    overhead = opcounters(args.bin, uri) - before
                    before += overhead
                else:
                    store = os.path.join(row_work, "store")
                is_rust = row.cmd[0] == args.bin
                cmd = row.cmd + ([store, values_json[steps], cap] if is_rust
                                 else ["--store", store, "--steps", str(steps), "--cap", cap])
                result = run_child(cmd, os.path.join(row_work, "cwd"),
                                   os.path.join(logs, f"{row.key}-round{number + 1}.log"), env)
                if server is not None:
                    result["server_commands"] = opcounters(args.bin, uri) - before - overhead
            except Exception as err:  # a broken tool keeps its row, with the reason
                result = {"error": f"{type(err).__name__}: {err}"}
            finally:
                if server is not None:
                    server.stop()
            results[row.key].append(result)
            print(f"   {json.dumps(result)[:400]}", file=sys.stderr, flush=True)

    table = render(args, rows, steps_of, results, header, time.time() - started, logs)
    with open(os.path.join(args.out, "latest-s1.md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.out, "latest-s1.json"), "w") as f:
        json.dump({"steps_of": steps_of, "results": results, "versions": versions}, f, indent=1)
    print(table)


def answers(result: dict[str, Any]) -> str:
    """✓ when the history read back is exactly what was logged: s1.expected()
    of the logged steps (count, first, last, min, max), and every point
    equal (the tool's own check)."""
    want = s1.expected(s1.make_values(result["steps"]))
    got = result.get("read")
    if got == want and result.get("exact"):
        return "✓"
    if got == want:
        return "✗ summary right, but some point differs"
    if got is None or got.get("count") != want["count"]:
        return f"✗ read back {(got or {}).get('count', 0):,} of {want['count']:,} points"
    return f"✗ read back {json.dumps(got)}, expected {json.dumps(want)}"


def duration(seconds: float) -> str:
    """An extrapolated time, in the unit that reads best."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def document_limit_steps(steps: int, document_bytes: int) -> int:
    """yamlett 0.0.7's history is a BSON array in the run document: the step
    at which the document would pass 16 MiB, computed from its size after
    `steps` pushes (a double in an array costs 1 type byte, its index as a
    C string, and 8 bytes)."""

    def element(index: int) -> int:
        return 1 + len(str(index)) + 1 + 8

    size = document_bytes
    step = steps
    while size + element(step) <= MAX_DOCUMENT_BYTES:
        size += element(step)
        step += 1
    return step


def render(args: argparse.Namespace, rows: list[Row], steps_of: dict[str, int],
           results: dict[str, list[dict[str, Any]]], header: list[str], elapsed: float, logs: str) -> str:
    target = args.series_steps
    lines = ["# S1: one metric, logged one call per step, read back whole", ""]
    lines += header
    lines += [
        f"- One run, one metric, steps 0 to {target - 1:,} logged one call per step with explicit step numbers "
        f"(s1.py: the same seeded values for every tool), then the whole history read back and checked "
        f"(count, first, last, min, max, and every point); a row stops at the first 1,000th step past "
        f"{args.series_cap:.0f} s, or logs fewer steps where the row says so",
        "- MongoDB rows: SecantusDB 0.7.0b3 test server on 127.0.0.1, a fresh one per row, retryWrites=false",
        *([f"- Median of {len(next(iter(results.values()), []))} rounds, the order of the rows reversed every "
           "round; RSS and answers from the first round"] if args.rounds > 1 else []),
        "- (N×): ratio to the yamlett embedded-store, guard-per-step row of this same run",
        "",
        "| tool | steps logged | log s | µs / step | read-back s | peak RSS MiB (logging process; before the loop) "
        "| server commands / step | answers | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    base_us = None
    how = []
    for row in rows:
        runs = [r for r in results[row.key] if "log_seconds" in r]
        if not runs:
            failed = (results[row.key] or [{}])[0]
            lines.append(f"| {row.label} | failed: {failed.get('error', 'no result')} | | | | | | | |")
            continue
        first = runs[0]
        steps = first["steps"]
        log_s = median([r["log_seconds"] for r in runs])
        read_s = median([r["read_seconds"] for r in runs])
        us = median([r["log_seconds"] / r["steps"] * 1e6 for r in runs])
        if row.key == "yamlett-local":
            base_us = us
        if steps < target:
            why = "cap" if steps < steps_of[row.key] else "COMPARE_SERIES_STEPS_OF"
            steps_s = f"{steps:,} ({why})"
            log_cell = f"{fmt(log_s, 2)}; **{target:,} steps extrapolated: ~{duration(us * target / 1e6)}**"
        else:
            steps_s, log_cell = f"{steps:,}", fmt(log_s, 2)
        rss = first.get("log_peak_rss_kib")
        rss_s = f"{fmt(rss / 1024)} ({fmt(first['rss_before_kib'] / 1024)})" if rss else "—"
        commands = first.get("server_commands")
        cmd_s = f"{commands / steps:.3g}" if commands is not None else f"n/a ({row.store})"
        notes = list(row.notes)
        if "document_bytes" in first:
            limit = document_limit_steps(steps, first["document_bytes"])
            notes.append(f"run document {first['document_bytes'] / 1024:,.0f} KiB after {steps:,} pushes; "
                         f"computed: it passes MongoDB's 16 MiB limit at step {limit:,}")
        lines.append(f"| {row.label} | {steps_s} | {log_cell} | {fmt(us)}{ratio(us, base_us)} | {fmt(read_s, 3)} "
                     f"| {rss_s} | {cmd_s} | {answers(first)} | {'; '.join(notes)} |")
        how.append(f"- {row.label}: {row.how}")
    lines += ["", "What each row does:", "", *how]
    lines += ["", f"Harness time (S1, all rows): {elapsed / 60:.1f} min. Logs: {os.path.relpath(logs)}; "
              f"raw numbers: {os.path.relpath(os.path.join(args.out, 'latest-s1.json'))}"]
    return "\n".join(lines) + "\n"
