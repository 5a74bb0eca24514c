#!/usr/bin/env bash
# Installs (pinned) and starts the MongoDB-wire test server, SecantusDB, as a
# separate process. Sourced by scripts/test.sh; usable alone:
#   source scripts/test-server.sh && start_test_server && echo "$YAMLETT_TEST_MONGODB_URI"
# SecantusDB is GPL: it is installed from PyPI into a private virtualenv and
# only ever talked to over the wire, never linked or vendored.
SECANTUS_VERSION="0.7.0b3"
VENV_DIR="${YAMLETT_TEST_VENV:-$(pwd)/target/test-server-venv}"

install_test_server() {
  # `pip show` output is read whole (not piped into `grep -q`, which exits
  # early: under pipefail the SIGPIPE made this check fail every time).
  local installed=""
  if [ -x "$VENV_DIR/bin/secantusd-py" ]; then
    installed="$("$VENV_DIR/bin/python" -m pip show SecantusDB 2>/dev/null || true)"
  fi
  if [[ "$installed" == *"Version: $SECANTUS_VERSION"* ]]; then
    return 0
  fi
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
      fi
    done
  fi
  if [ -z "$python" ]; then
    echo "error: SecantusDB $SECANTUS_VERSION ships a CPython 3.11 wheel; no python3.11 found (set PYTHON=...)" >&2
    return 1
  fi
  echo "Installing SecantusDB==$SECANTUS_VERSION into $VENV_DIR" >&2
  "$python" -m venv "$VENV_DIR" || return 1
  "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "SecantusDB==$SECANTUS_VERSION" || return 1
}

free_port() {
  "$VENV_DIR/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_test_server [extra secantusd-py flags...]: starts a server on a free
# port, waits until it answers a ping, and exports YAMLETT_TEST_MONGODB_URI.
start_test_server() {
  install_test_server || return 1
  TEST_SERVER_PORT=$(free_port)
  TEST_SERVER_LOG="$(pwd)/target/test-server-$TEST_SERVER_PORT.log"
  "$VENV_DIR/bin/secantusd-py" --host 127.0.0.1 --port "$TEST_SERVER_PORT" --storage-path :memory: \
      --log-level WARNING --enable-test-commands "$@" >"$TEST_SERVER_LOG" 2>&1 &
  TEST_SERVER_PID=$!
  local tries=0
  until "$VENV_DIR/bin/python" - "$TEST_SERVER_PORT" <<'PY' 2>/dev/null
import sys, pymongo
pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}", serverSelectionTimeoutMS=500).admin.command("ping")
PY
  do
    tries=$((tries + 1))
    if [ $tries -gt 120 ] || ! kill -0 "$TEST_SERVER_PID" 2>/dev/null; then
      echo "error: the test server did not start; its log:" >&2
      cat "$TEST_SERVER_LOG" >&2
      return 1
    fi
    sleep 0.5
  done
  # retryWrites=false: SecantusDB keeps every retryable write's reply and
  # scans them all on each write, so with retryable writes each update gets
  # slower as the suite runs (1.3 ms -> 15 ms after ~20k writes).
  export YAMLETT_TEST_MONGODB_URI="mongodb://127.0.0.1:$TEST_SERVER_PORT/?retryWrites=false"
  export YAMLETT_TEST_SERVER_BIN="$VENV_DIR/bin/secantusd-py"
  echo "Test server (SecantusDB $SECANTUS_VERSION) at $YAMLETT_TEST_MONGODB_URI, pid $TEST_SERVER_PID" >&2
}

stop_test_server() {
  if [ -n "${TEST_SERVER_PID:-}" ]; then
    kill "$TEST_SERVER_PID" 2>/dev/null
    wait "$TEST_SERVER_PID" 2>/dev/null
    TEST_SERVER_PID=
  fi
}
