#!/usr/bin/env bash
# The whole test suite, on both stores: starts the MongoDB-wire test server
# (unless YAMLETT_TEST_MONGODB_URI already points at one, e.g. a real mongod),
# runs every test, and stops the server. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
# The dashboard's browser tests drive the system's Chromium (they fail without it).
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium for the dashboard tests: apt-get install -y chromium chromium-driver" >&2
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null \
    || { echo "cannot install Chromium: run 'apt-get update && apt-get install -y chromium' as root" >&2; exit 1; }
fi
source scripts/test-server.sh
if [ -z "${YAMLETT_TEST_MONGODB_URI:-}" ]; then
  trap stop_test_server EXIT
  start_test_server
fi
# The test server binary also lets tests start servers of their own (auth, TLS, outages).
export YAMLETT_TEST_SERVER_BIN="${YAMLETT_TEST_SERVER_BIN:-$VENV_DIR/bin/secantusd-py}"
# Journals of the outage tests stay out of the working tree.
export YAMLETT_JOURNAL_DIR="${YAMLETT_JOURNAL_DIR:-$PWD/target/tmp/journal}"
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
# The README's first command: the quickstart on the embedded default store,
# with no server and no configuration, in a scratch working directory.
root="$PWD"
scratch="$(mktemp -d)"
(cd "$scratch" && env -u YAMLETT_URI cargo run --quiet --manifest-path "$root/Cargo.toml" --example quickstart >/dev/null)
rm -rf "$scratch"
