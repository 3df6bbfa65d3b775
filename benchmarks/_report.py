"""What every benchmark shares: the hardware record, the command line, and writing JSON + Markdown."""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
LOAD_AT_START = os.getloadavg()[0]  # the machine may be shared: how busy it was when we began, and at the end


def arg_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: `--quick` (tiny, for CI) and `--out` (result folder)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="tiny run for CI: checks the script works, not the numbers")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the JSON and Markdown results")
    return p


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def hardware() -> dict[str, Any]:
    """The machine and library versions, so a figure can always be traced to where it came from."""
    import torch

    info: dict[str, Any] = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_avg_1m_start": LOAD_AT_START, "load_avg_1m_end": os.getloadavg()[0],
    }
    for name in ("ray", "optuna"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    return info


def median_spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of a list of measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, out: str | Path, result: dict[str, Any], table: str, quick: bool) -> Path:
    """Write `<name>.json` and `<name>.md` (table + hardware + command) to `out`, print the table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    hw = hardware()
    command = "PYTHONPATH=$PWD python -m benchmarks." + name + "".join(" " + a for a in sys.argv[1:])
    doc = {"benchmark": name, "quick": quick, "command": command, "hardware": hw,
           "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}
    (out / f"{name}.json").write_text(json.dumps(doc, indent=2, default=_jsonable) + "\n")
    hw_line = ", ".join(f"{k}={v}" for k, v in hw.items())
    title = f"## {name}" + (" (quick mode: not a measurement)" if quick else "")
    md = f"{title}\n\n{table}\n\nCommand: `{command}`\n\nHardware: {hw_line}\n"
    (out / f"{name}.md").write_text(md)
    print(md)
    return out / f"{name}.json"


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return str(v)
