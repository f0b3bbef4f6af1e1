#!/usr/bin/env bash
# The throughput benchmark in one command; see bench/README.md.
# Usage: bench/run_all.sh [--short] [--build-dir DIR] [--seconds S] [--concurrency 1,4,16,64]
exec /usr/bin/python3 "$(dirname "$0")/run_all.py" "$@"
