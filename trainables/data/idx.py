"""Parser for the IDX format of MNIST and Fashion-MNIST (optionally gzipped)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .dataset import DataError

_DTYPES: dict[int, np.dtype] = {
    code: np.dtype(name)
    for code, name in {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.items()
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (`.gz` or raw) into an array of its declared shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read IDX file: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    dtype, ndim = raw[2], raw[3]
    if dtype not in _DTYPES:
        raise DataError(f"{path}: unknown IDX data type 0x{dtype:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dt = _DTYPES[dtype]
    expected = int(np.prod(shape)) * dt.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: IDX body has {len(raw) - header} bytes, header declares {expected} for shape {shape}")
    # native-order data (uint8 images) is used in place: a gigabyte dataset is not copied once more
    return np.frombuffer(raw, dtype=dt, offset=header).reshape(shape).astype(dt.newbyteorder("="), copy=False)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write an array as IDX (gzipped if the name ends in .gz); used by tests and tools."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i4"): 0x0C}
    arr = array.astype(np.dtype(">i4")) if array.dtype.kind == "i" and array.dtype.itemsize > 1 else array
    header = bytes([0, 0, codes[arr.dtype], arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.tobytes()
    path = Path(path)
    (gzip.open if path.suffix == ".gz" else open)(path, "wb").write(data)
