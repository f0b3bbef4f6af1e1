#!/usr/bin/env bash
# Installs dependencies, builds, generates the example models and starts
# Tessera on examples/config.json (KServe/TFS gRPC on :9000, REST on :8000). Extra arguments
# are passed to tessera (e.g. --log_level DEBUG).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh tessera
/usr/bin/python3 scripts/make_example_models.py examples/models
# The example pipelines' custom node libraries (config.json: lib/...).
mkdir -p examples/lib
cp "${BUILD_DIR:-build}"/src/custom_node/libcustom_node_{add_sub,dynamic_demultiplex,image_transformation}.so examples/lib/
exec "${BUILD_DIR:-build}/src/server/tessera" --config_path examples/config.json --port 9000 --rest_port 8000 "$@"
