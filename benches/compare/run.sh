#!/usr/bin/env bash
# The tool comparison, in one command, from a fresh clone:
#
#   benches/compare/run.sh
#
# Installs every tool (pinned, one python3.11 virtualenv each under
# target/compare/), installs the MongoDB-wire test server (SecantusDB, via
# scripts/test-server.sh), builds the Rust side (benches/compare/Cargo.toml,
# its own workspace) in release mode, then runs workload W1 with every tool
# (compare.py starts and stops its own test servers) and prints one markdown
# table, also written to target/compare/latest.md. COMPARE_PHASES=s1 (or
# w1,s1) runs workload S1, one metric series of 1,000,000 steps logged and
# read back (compare_s1.py; its table in target/compare/latest-s1.md).
#
# Not part of CI. Knobs (environment): COMPARE_PHASES (w1), COMPARE_SERIES_STEPS
# (1000000), COMPARE_SERIES_STEPS_OF (per-row step counts, e.g.
# mlflow=20000,py-yamlett=500), COMPARE_SERIES_CAP (600 s), COMPARE_LOG_RUNS (200),
# COMPARE_QUERY_RUNS (5000), COMPARE_PY_YAMLETT_RUNS (2), COMPARE_REPS (5),
# COMPARE_ONLY (comma-separated row keys, e.g. yamlett-local,raw-mongo),
# COMPARE_ROUNDS (log phase rounds, the rows' order alternating; medians),
# CARGO_TARGET_DIR (default: target/ of this repository), PYTHON (a CPython
# 3.11 to build the virtualenvs with).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT="$ROOT/target/compare"
REQS="$ROOT/benches/compare/requirements"
mkdir -p "$OUT"

# --- a CPython 3.11 (SecantusDB ships a 3.11 wheel; the tools use the same).
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "error: no python3.11 found (set PYTHON=...)" >&2
  exit 1
fi
export PYTHON

# --- one virtualenv per tool, from its pinned requirements file; reinstalled
# only when that file changes.
install_venv() {
  local name=$1 venv="$OUT/venv-$1" req="$REQS/$1.txt"
  local stamp="$venv/.requirements.sha256"
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "Installing $name into $venv" >&2
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
}
for tool in yamlett007 sacred mlflow expman; do
  install_venv "$tool"
done

# --- the test server (installed, not started: compare.py starts one per phase).
source scripts/test-server.sh
# In a subshell without pipefail: its "already installed?" check pipes
# `pip show` into `grep -q`, which pipefail turns into a failure (and a
# reinstall) whenever pip is still writing when grep exits.
( set +o pipefail; install_test_server )

# --- the Rust binary.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
echo "Building benches/compare (release)" >&2
cargo build --release --locked --quiet --manifest-path benches/compare/Cargo.toml
BIN="$CARGO_TARGET_DIR/release/yamlett-compare"

# --- versions for the table's labels.
version_of() { "$OUT/venv-$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))"; }
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' benches/compare/Cargo.lock
}
VERSIONS=$(printf '{"yamlett": "%s (%s)", "mongodb": "%s", "yamlett007": "%s", "sacred": "%s", "mlflow": "%s", "expman": "%s"}' \
  "$(lock_version yamlett)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(lock_version mongodb)" \
  "$(version_of yamlett007 yamlett)" "$(version_of sacred sacred)" \
  "$(version_of mlflow mlflow-skinny)" "$(version_of expman expman-rs)")

"$PYTHON" benches/compare/compare.py --bin "$BIN" --server "$VENV_DIR/bin/secantusd-py" \
  --venvs "$OUT" --out "$OUT" --versions "$VERSIONS"
