"""Screenshot an hpsearch HTML report with headless Chromium, downscaled for the README.

Usage: python docs/scripts/report_screenshot.py RESULTS_DIR/report/report.html docs/images/report.png
Needs `chromium` (Debian: apt-get install -y chromium).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image


def main(html: str, out: str, width: int = 1280, height: int = 3000, scale: float = 0.5) -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "full.png"
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={raw}", f"--window-size={width},{height}",
                        Path(html).resolve().as_uri()], check=True, capture_output=True)
        im = Image.open(raw).convert("RGB")
        im = im.resize((int(im.width * scale), int(im.height * scale)), Image.LANCZOS)
        im.quantize(colors=128).save(out, optimize=True)  # a palette PNG keeps the README light
    print(f"wrote {out} ({Path(out).stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
