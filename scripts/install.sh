#!/usr/bin/env bash
# Install hpsearch and what it needs into the current Python environment (pinned by constraints.txt),
# and make sure the real Fashion-MNIST is available (Debian package when offline, else torchvision's download).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras=${HPSEARCH_EXTRAS:-test}
"$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -c constraints.txt -e ".[${extras}]"

have_fashion() { "$PY" -c "from trainables.data.mnist import find_idx_files, candidate_dirs
import sys; sys.exit(0 if any(find_idx_files(d) for _, d in candidate_dirs('fashion_mnist', None)) else 1)"; }

if ! have_fashion; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    echo "installing Debian's dataset-fashion-mnist (the real Fashion-MNIST IDX files)..."
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist; } >/dev/null 2>&1 \
      || echo "could not install dataset-fashion-mnist; hpsearch will try torchvision's download instead"
  fi
fi
