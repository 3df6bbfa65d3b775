"""Time the resize-and-cache step on generated Galaxy-Zoo-style JPEGs: first load (decode) vs second (cache).

Run: PYTHONPATH=$PWD python scripts/measure_image_cache.py [N_IMAGES] [SIZE]
"""
from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from trainables.data import load_dataset


def main(n: int = 2000, size: int = 140) -> None:
    d = Path(tempfile.mkdtemp(prefix="hpsearch-cache-measure-"))
    (d / "images").mkdir()
    base = np.random.default_rng(0).integers(0, 255, (424, 424, 3), dtype=np.uint8)   # GZ2 images are 424x424
    with open(d / "gz2_hart16.csv", "w", newline="") as f1, open(d / "gz2_filename_mapping.csv", "w", newline="") as f2:
        classes, mapping = csv.writer(f1), csv.writer(f2)
        classes.writerow(["dr7objid", "gz2_class"])
        mapping.writerow(["objid", "sample", "asset_id"])
        for i in range(n):
            classes.writerow([str(10**17 + i), "Sc" if i % 5 < 3 else "Ei"])
            mapping.writerow([str(10**17 + i), "original", str(i)])
            Image.fromarray(np.roll(base, i, axis=0)).save(d / "images" / f"{i}.jpg", quality=90)
    for k in (1, 2):
        t = time.perf_counter()
        data = load_dataset("galaxy_zoo", str(d), {"size": size})
        print(f"load {k}: {time.perf_counter() - t:.2f} s, images {data.x_train.shape}")
    cache = next((d / ".hpsearch-cache").glob("*.npz"))
    jpegs = sum(p.stat().st_size for p in (d / "images").iterdir())
    print(f"cache {cache.stat().st_size / 1e6:.0f} MB vs {jpegs / 1e6:.0f} MB of JPEGs ({d})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
