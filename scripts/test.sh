#!/usr/bin/env bash
# The whole test suite, on CPU: installs what it needs first (pinned), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  # report tests open the HTML report in headless Chromium
  apt-get install -y -qq chromium >/dev/null 2>&1 || echo "chromium unavailable; report screenshot test will fail"
fi
# the slowest tests are listed at the end, so a CI log shows where the suite's time went
exec python3 -m pytest -q --durations=25 "$@"
