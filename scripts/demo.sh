#!/usr/bin/env bash
# The main job on a fresh machine: install, get Fashion-MNIST, run a small real search, print the leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
HPSEARCH_EXTRAS=test bash scripts/install.sh
python3 -m search.cli data show fashion_mnist
# a fresh name each time, since hpsearch never overwrites an existing experiment
exec python3 -m search.cli run examples/quickstart.yaml --set "name=quickstart-$(date +%Y%m%d-%H%M%S)" "$@"
