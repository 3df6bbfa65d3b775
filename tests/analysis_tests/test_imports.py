"""Imports go one way: spaces -> trainables -> analysis -> search (the rule: analysis/__init__.py).

Each check runs in a fresh interpreter, imports every module of a package, and lists the modules of
higher packages (or heavy libraries) that appeared in sys.modules.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "spaces": ["trainables", "analysis", "search", "torch", "ray", "optuna"],  # pure data
    "trainables": ["analysis", "search"],
    "analysis": ["search"],
}

_PROBE = """
import importlib, json, pkgutil, sys
package, forbidden = sys.argv[1], json.loads(sys.argv[2])
root = importlib.import_module(package)
names = [package] + [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
for name in names:
    importlib.import_module(name)
found = sorted({m.split(".")[0] for m in sys.modules} & set(forbidden))
print(json.dumps({"modules": len(names), "found": found}))
"""


def _probe(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_package_never_imports_a_higher_one(package):
    result = json.loads(_probe(_PROBE, package, json.dumps(FORBIDDEN[package])))
    assert result["modules"] > 3  # every module was imported, not just the package
    assert result["found"] == [], f"importing all of {package} pulled in {result['found']}"


def test_import_analysis_is_light():
    """`import analysis` (what `hpsearch leaderboard` needs) pulls in neither torch, matplotlib nor ray."""
    code = "import sys, analysis; print(sorted(m for m in ('torch', 'matplotlib', 'ray') if m in sys.modules))"
    assert _probe(code) == "[]"
