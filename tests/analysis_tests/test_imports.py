"""`import analysis` (what `hpsearch leaderboard` needs) pulls in neither torch, matplotlib nor ray."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_analysis_is_light():
    code = "import sys, analysis; print(sorted(m for m in ('torch', 'matplotlib', 'ray') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
