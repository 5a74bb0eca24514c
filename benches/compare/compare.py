"""Runs workload W1 (see w1.py) with every tool of the comparison and prints
one markdown table (also written to target/compare/latest.md, with the raw
numbers in target/compare/latest.json).

Called by run.sh, which installs the tools and builds the Rust binary first;
stdlib only. Each tool runs each phase in a process of its own:

- the log phase (LOG_RUNS runs): timed inside the process, around the
  logging loop only (interpreter start-up and imports excluded); its peak
  RSS is the process's VmHWM, which it reports itself; on the MongoDB test
  server, the commands it sent are the server's opcounters delta around the
  process;
- the query phase (QUERY_RUNS runs): populated with the tool's fastest
  write path (untimed for the table), then the find and the $group are
  each run once to warm up and REPS times, and the median is reported. The
  answers are checked against w1.expected().

Each tool gets a fresh test server (SecantusDB, started and stopped here),
so no tool pays for another's data. Every MongoDB URI carries
retryWrites=false: SecantusDB 0.7.0b3 keeps a reply for each retryable write
(up to 10,000, pruned by a scan on every write), so with the drivers'
default every write slows down as writes accumulate (about 1 ms to 15 ms per
update over 20,000 updates), which would measure the test server rather than
the tools.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import w1  # noqa: E402

# A child that runs longer than this is killed and its row says so.
CHILD_TIMEOUT_SECONDS = 3600


@dataclass
class Tool:
    """One row of the table."""

    key: str
    label: str
    log_cmd: list[str]  # the log phase's command, without --store/--runs
    query_cmd: list[str] | None  # the query phase's, or None to share another row's
    store: str  # "local", "mongo" or "sqlite"/"files" (no server)
    log_runs: int
    notes: list[str] = field(default_factory=list)
    find_note: str = ""
    group_note: str = ""
    shares_query_with: str | None = None


@dataclass
class Server:
    """A SecantusDB test server of our own, on a free port."""

    binary: str
    workdir: str
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self, probe: list[str]) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        log = open(os.path.join(self.workdir, f"server-{self.port}.log"), "w")
        self.process = subprocess.Popen(
            [self.binary, "--host", "127.0.0.1", "--port", str(self.port),
             "--storage-path", ":memory:", "--log-level", "WARNING"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test server exited; see {log.name}")
            ready = subprocess.run(
                probe + [f"mongodb://127.0.0.1:{self.port}/?serverSelectionTimeoutMS=500"],
                capture_output=True,
            )
            if ready.returncode == 0:
                return self.uri()
            time.sleep(0.5)
        raise RuntimeError(f"the test server did not answer within 60 s; see {log.name}")

    def uri(self, database: str = "") -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}?retryWrites=false"

    def cpu_seconds(self) -> float | None:
        """The server process's CPU time so far (user + system, all its
        threads), from /proc; None where there is no /proc."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as f:
                # Fields after the command name, which may hold spaces.
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def run_child(cmd: list[str], cwd: str, log_path: str, env: dict[str, str]) -> dict[str, Any]:
    """Runs one phase in its own process; returns its JSON result (which
    carries the process's own peak RSS), its exit status and wall time."""
    os.makedirs(cwd, exist_ok=True)
    # Write back every dirty page first (the W1 JSON, the previous tool's
    # files): an fsync-per-commit store would otherwise pay for it.
    os.sync()
    out_path = log_path + ".out"
    with open(out_path, "w") as out, open(log_path, "w") as err:
        err.write("$ " + " ".join(cmd) + "\n")
        err.flush()
        start = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        timer = threading.Timer(CHILD_TIMEOUT_SECONDS, process.kill)
        timer.start()
        # wait4, not wait: the child's own CPU time (user + system), which
        # moves far less than wall time on a shared machine.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        timer.cancel()
        wall = time.perf_counter() - start
    result: dict[str, Any] = {
        "exit": process.returncode,
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    lines = [line for line in open(out_path).read().splitlines() if line.strip()]
    if process.returncode == 0 and lines:
        try:
            result.update(json.loads(lines[-1]))
        except json.JSONDecodeError:
            result["error"] = f"no JSON result; see {log_path}"
    else:
        result["error"] = f"exit {process.returncode}; see {log_path}"
    return result


def opcounters(binary: str, uri: str) -> int:
    """The server's opcounters, summed (insert+query+update+delete+getmore+command)."""
    out = subprocess.run([binary, "opcounters", uri], capture_output=True, text=True, check=True)
    return sum(json.loads(out.stdout.strip().splitlines()[-1]).values())


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores{memory}; kernel {platform.system()} {platform.release()}",
        f"- Load average at start: {load} (a shared machine: expect noise)",
    ]


def median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return ""
    r = value / base
    return f" ({r:.2g}×)" if r < 10 else f" ({r:,.0f}×)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the yamlett-compare binary")
    parser.add_argument("--server", required=True, help="secantusd-py")
    parser.add_argument("--venvs", required=True, help="directory of the tools' venvs")
    parser.add_argument("--out", required=True, help="output directory (target/compare)")
    parser.add_argument("--versions", required=True, help="JSON: tool -> version")
    parser.add_argument("--log-runs", type=int, default=int(os.environ.get("COMPARE_LOG_RUNS", 200)))
    parser.add_argument("--query-runs", type=int, default=int(os.environ.get("COMPARE_QUERY_RUNS", 5000)))
    parser.add_argument("--py-yamlett-runs", type=int, default=int(os.environ.get("COMPARE_PY_YAMLETT_RUNS", 2)))
    parser.add_argument("--reps", type=int, default=int(os.environ.get("COMPARE_REPS", 5)))
    parser.add_argument("--only", default=os.environ.get("COMPARE_ONLY", ""),
                        help="comma-separated tool keys to run (default: all)")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("COMPARE_ROUNDS", 1)),
                        help="log phase rounds, the order of the rows reversed every round; "
                             "the table shows each row's median (the query phase runs once)")
    parser.add_argument("--phases", default=os.environ.get("COMPARE_PHASES", "w1"),
                        help="comma-separated workloads to run: w1 (the default) and/or s1 (compare_s1.py)")
    # S1's knobs: see compare_s1.py.
    parser.add_argument("--series-steps", type=int, default=int(os.environ.get("COMPARE_SERIES_STEPS", 1_000_000)))
    parser.add_argument("--series-steps-of", default=os.environ.get("COMPARE_SERIES_STEPS_OF", ""),
                        help="per-row step counts, e.g. mlflow=20000,py-yamlett=500")
    parser.add_argument("--series-cap", type=float, default=float(os.environ.get("COMPARE_SERIES_CAP", 600)))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    phases = set(args.phases.split(","))
    unknown = phases - {"w1", "s1"}
    if unknown:
        sys.exit(f"unknown phases {sorted(unknown)} (COMPARE_PHASES takes w1 and s1)")
    if "w1" in phases:
        run_w1(args)
    if "s1" in phases:
        import compare_s1

        compare_s1.run_s1(args)


def run_w1(args: argparse.Namespace) -> None:
    """Workload W1: every row's log and query phases, one table."""
    versions = json.loads(args.versions)
    started = time.time()
    header = machine()

    work = os.path.join(args.out, "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    logs = os.path.join(args.out, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)

    # The Rust binary reads W1 from JSON; the Python tools generate it in-process.
    data = {}
    for n in {args.log_runs, args.query_runs}:
        data[n] = os.path.join(args.out, f"w1-{n}.json")
        with open(data[n], "w") as f:
            json.dump(w1.make_runs(n), f)
    expected = w1.expected(w1.make_runs(args.query_runs))

    def py(venv: str, script: str, *extra: str) -> list[str]:
        return [os.path.join(args.venvs, venv, "bin", "python"), os.path.join(HERE, "tools", script), *extra]

    tools = [
        Tool("yamlett-local", f"yamlett {versions['yamlett']} (Rust), embedded store",
             [args.bin, "log", "yamlett"], [args.bin, "query", "yamlett"], "local", args.log_runs,
             notes=["guard per step: durable at every step (one append to the write log)"]),
        Tool("yamlett-mongo", f"yamlett {versions['yamlett']} (Rust), MongoDB",
             [args.bin, "log", "yamlett"], [args.bin, "query", "yamlett"], "mongo", args.log_runs,
             notes=["guard per step: one update per step"]),
        Tool("raw-mongo", f"raw `mongodb` {versions['mongodb']} driver (Rust, sync)",
             [args.bin, "log", "raw"], [args.bin, "query", "raw"], "mongo", args.log_runs,
             notes=["the same commands as yamlett, by hand: lower bound of the row above"]),
        Tool("raw-mongo-same", f"raw `mongodb` {versions['mongodb']} driver (Rust, sync), yamlett's metadata",
             [args.bin, "log", "raw-same"], [args.bin, "query", "raw"], "mongo", args.log_runs,
             notes=["the row above plus what yamlett stores about a run (provenance, heartbeat, writer "
                    "stamps and their exactly-once condition) and its read at open: yamlett's commands "
                    "field for field"]),
        Tool("py-yamlett", f"yamlett {versions['yamlett007']} (Python)",
             py("venv-yamlett007", "run_yamlett007.py", "log"),
             py("venv-yamlett007", "run_yamlett007.py", "query"), "mongo", args.py_yamlett_runs,
             notes=[f"only {args.py_yamlett_runs} runs: a new MongoClient per call, 2 updates per store"],
             find_note="new client per query"),
        Tool("sacred", f"Sacred {versions['sacred']}, MongoObserver",
             py("venv-sacred", "run_sacred.py", "log"), py("venv-sacred", "run_sacred.py", "query"),
             "mongo", args.log_runs,
             notes=["log_scalar buffered until heartbeat/end: steps not durable when logged"],
             find_note="pymongo on `runs`", group_note="pymongo on `runs`"),
        Tool("mlflow", f"MLflow {versions['mlflow']} (skinny), SQLite, per-value calls",
             py("venv-mlflow", "run_mlflow.py", "log", "--variant", "per-value"),
             py("venv-mlflow", "run_mlflow.py", "query"), "sqlite", args.log_runs,
             notes=["params stored as strings"],
             find_note="n_observations >= 3000 applied client-side (params are strings)",
             group_note="no aggregation: search_runs of all runs + pandas groupby"),
        Tool("mlflow-batch", f"MLflow {versions['mlflow']} (skinny), SQLite, batch calls",
             py("venv-mlflow", "run_mlflow.py", "log", "--variant", "batch"), None, "sqlite", args.log_runs,
             notes=["log_params + log_metrics + one log_batch of the loss after training: no step stored until the end"],
             shares_query_with="mlflow", find_note="same store and queries as the row above",
             group_note="same as above"),
        Tool("expman", f"expman-rs {versions['expman']} (Python API), files",
             py("venv-expman", "run_expman.py", "log"), py("venv-expman", "run_expman.py", "query"),
             "files", args.log_runs,
             notes=["asynchronous writes: nothing durable when a call returns"],
             find_note="no query language: load_runs + load_config, filtered in Python",
             group_note="no aggregation: grouped in Python"),
    ]
    if args.only:
        keep = set(args.only.split(","))
        tools = [t for t in tools if t.key in keep or (t.shares_query_with in keep)]

    env = dict(os.environ)
    # No network here: keep MLflow from trying to send telemetry.
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONUNBUFFERED="1")
    results: dict[str, dict[str, Any]] = {key: {} for key in (t.key for t in tools)}
    # Rows run one after the other, and a shared machine's load drifts: with
    # several rounds the order alternates (A B, B A, A B, ...), so neither
    # row always runs first, and the table shows each row's median.
    rounds = [tools if r % 2 == 0 else tools[::-1] for r in range(max(args.rounds, 1))]
    for number, order in enumerate(rounds):
        for tool in order:
            print(f"== {tool.key} (round {number + 1} of {len(rounds)})", file=sys.stderr, flush=True)
            row = results[tool.key]
            tool_work = os.path.join(work, tool.key, f"round-{number + 1}")
            server = Server(args.server, work) if tool.store == "mongo" else None
            try:
                for phase, cmd, runs in (("log", tool.log_cmd, tool.log_runs), ("query", tool.query_cmd, args.query_runs)):
                    if cmd is None or (phase == "query" and number > 0):
                        continue
                    if server is not None:
                        # A fresh server per phase: no phase pays for another's data.
                        uri = server.start([args.bin, "opcounters"])
                        database = {"yamlett-mongo": "yamlett_compare", "raw-mongo": "raw", "raw-mongo-same": "raw"}.get(tool.key, "")
                        store = server.uri(database)
                        before = opcounters(args.bin, uri)
                        overhead = opcounters(args.bin, uri) - before  # one opcounters call's own commands
                        before += overhead
                        server_cpu = server.cpu_seconds()
                    else:
                        store = os.path.join(tool_work, f"{phase}-store")
                    is_rust = cmd[0] == args.bin
                    full = cmd + ([store, data[runs]] if is_rust else ["--store", store, "--runs", str(runs)])
                    if phase == "query":
                        full += [str(args.reps)] if is_rust else ["--reps", str(args.reps)]
                    log_name = f"{tool.key}-{phase}" + (f"-round{number + 1}" if len(rounds) > 1 else "")
                    result = run_child(full, os.path.join(tool_work, phase), os.path.join(logs, f"{log_name}.log"), env)
                    if server is not None:
                        if phase == "log":
                            cpu_after = server.cpu_seconds()
                            if server_cpu is not None and cpu_after is not None:
                                result["server_cpu_seconds"] = cpu_after - server_cpu
                            result["server_commands"] = opcounters(args.bin, uri) - before - overhead
                        server.stop()
                    if phase == "log":
                        row.setdefault("log_rounds", []).append(result)
                    else:
                        row[phase] = result
                    print(f"   {phase}: {json.dumps(result)[:400]}", file=sys.stderr, flush=True)
            except Exception as err:  # a broken tool keeps its row, with the reason
                row.setdefault("error", f"{type(err).__name__}: {err}")
                print(f"   error: {err}", file=sys.stderr, flush=True)
            finally:
                if server is not None:
                    server.stop()
    for row in results.values():
        # The row's log phase: its first round, with the median time of all.
        done = [r for r in row.get("log_rounds", []) if "log_seconds" in r]
        if done:
            row["log"] = dict(done[0], log_seconds=median([r["log_seconds"] for r in done]))
        elif row.get("log_rounds"):
            row["log"] = row["log_rounds"][0]

    # ------------------------------------------------------------ the table
    values_per_run = w1.VALUES_PER_RUN

    def log_us(key: str) -> float | None:
        log = results.get(key, {}).get("log", {})
        if "log_seconds" not in log:
            return None
        runs = next(t.log_runs for t in tools if t.key == key)
        return log["log_seconds"] / (runs * values_per_run) * 1e6

    def query_of(tool: Tool) -> dict[str, Any]:
        return results.get(tool.shares_query_with or tool.key, {}).get("query", {})

    base = results.get("yamlett-local", {})
    base_us = log_us("yamlett-local")
    base_find = median(base.get("query", {}).get("find_ms"))
    base_group = median(base.get("query", {}).get("group_ms"))
    base_rss = base.get("log", {}).get("peak_rss_kib")

    lines = [f"# W1: yamlett and other experiment trackers", ""]
    lines += header
    lines += [
        f"- Log phase: {args.log_runs} runs x {values_per_run} values (30 params, 2 data, 20 metrics, "
        f"100 loss steps one call per step), unless the row says otherwise",
        f"- Query phase: {args.query_runs:,} runs; median of {args.reps} timed repetitions after one warm-up; "
        f"expected answers: find {expected['find_count']} runs, mean F1 false/true "
        f"{expected['group']['false']:.4f}/{expected['group']['true']:.4f}",
        "- MongoDB rows: SecantusDB 0.7.0b3 test server on 127.0.0.1, a fresh one per phase, retryWrites=false",
        *([f"- Log phase: median of {len(rounds)} rounds, the order of the rows reversed every round; "
           "per round (s): " + "; ".join(
               f"{t.key} " + ", ".join(fmt(r.get("log_seconds"), 2) for r in results[t.key].get("log_rounds", []))
               for t in tools)] if len(rounds) > 1 else []),
        *([f"- Log phase CPU seconds (user + system) per round, client/server: " + "; ".join(
               f"{t.key} " + ", ".join(f"{fmt(r.get('cpu_seconds'), 2)}/{fmt(r.get('server_cpu_seconds'), 2)}"
                                       for r in results[t.key].get("log_rounds", []))
               for t in tools)] if len(rounds) > 1 else []),
        "- (N×): ratio to the yamlett embedded-store row of this same run",
        "",
        "| tool | log phase s | µs / logged value | server commands / value | find ms | $group ms "
        "| peak RSS MiB (logging process) | answers | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    footnotes: list[str] = []
    for tool in tools:
        row = results.get(tool.key, {})
        log, query = row.get("log", {}), query_of(tool)
        if "error" in row or "error" in log:
            log_s = f"failed: {row.get('error') or log.get('error')}"
        else:
            log_s = fmt(log.get("log_seconds"), 2)
            if tool.log_runs != args.log_runs:
                log_s += f" ({tool.log_runs} runs)"
        us = log_us(tool.key)
        us_s = fmt(us) + ratio(us, base_us)
        if tool.store == "mongo":
            cmds = log.get("server_commands")
            runs = tool.log_runs
            cmd_s = f"{cmds / (runs * values_per_run):.2f}" if cmds is not None else "—"
        else:
            cmd_s = {"local": "n/a (embedded SQLite)", "sqlite": "n/a (SQLite file)", "files": "n/a (files)"}[tool.store]
        find, group = median(query.get("find_ms")), median(query.get("group_ms"))
        if "error" in query:
            find_s = group_s = f"failed: {query['error']}"
        else:
            find_s = fmt(find) + ratio(find, base_find)
            group_s = fmt(group) + ratio(group, base_group)
        if tool.find_note:
            find_s += f" — {tool.find_note}"
        if tool.group_note:
            group_s += f" — {tool.group_note}"
        rss = log.get("peak_rss_kib")
        rss_s = (fmt(rss / 1024) + ratio(rss, base_rss)) if rss else "—"
        if "find_count" in query:
            ok = query["find_count"] == expected["find_count"] and all(
                abs(query.get("group", {}).get(k, float("nan")) - v) < 1e-9 for k, v in expected["group"].items()
            )
            answers = "✓" if ok else f"✗ find {query['find_count']}, group {query.get('group')}"
        else:
            answers = "—"
        lines.append(
            f"| {tool.label} | {log_s} | {us_s} | {cmd_s} | {find_s} | {group_s} | {rss_s} | {answers} "
            f"| {'; '.join(tool.notes)} |"
        )
        if query.get("populate_how") and not tool.shares_query_with:
            footnotes.append(
                f"- {tool.label}: {query['populate_how']}, {query['populate_seconds']:.1f} s for {args.query_runs:,} runs"
            )
    lines += ["", "Query-phase populating (each tool's fastest write path; not part of the table):", ""]
    lines += footnotes
    elapsed = time.time() - started
    lines += ["", f"Harness time (this script, all tools): {elapsed / 60:.1f} min. "
              f"Logs: {os.path.relpath(logs)}; raw numbers: {os.path.relpath(os.path.join(args.out, 'latest.json'))}"]
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump({"expected": expected, "results": results, "versions": versions}, f, indent=1)
    print(table)


if __name__ == "__main__":
    main()
