from __future__ import annotations

import gzip

import numpy as np
import pytest

from trainables.data import DataError
from trainables.data.idx import read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_roundtrip_images_and_labels(tmp_path, suffix):
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = np.arange(7, dtype=np.uint8)
    write_idx(tmp_path / f"img{suffix}", images)
    write_idx(tmp_path / f"lab{suffix}", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / f"img{suffix}"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / f"lab{suffix}"), labels)


def test_header_is_parsed_from_raw_bytes(tmp_path):
    # hand-written IDX: magic 0x00000803 (uint8, 3 dims), dims 2x2x3, then 12 bytes
    raw = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(12))
    (tmp_path / "x.gz").write_bytes(gzip.compress(raw))
    arr = read_idx(tmp_path / "x.gz")
    assert arr.shape == (2, 2, 3) and arr.dtype == np.uint8
    assert arr[1, 1, 2] == 11


def test_int32_big_endian(tmp_path):
    values = np.array([1, -2, 300000], dtype=">i4")
    write_idx(tmp_path / "v", values)
    np.testing.assert_array_equal(read_idx(tmp_path / "v"), [1, -2, 300000])


@pytest.mark.parametrize("raw, problem", [
    (b"\x01\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc", "bad magic"),
    (b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"abc", "header declares 5"),
    (b"\x00\x00\x07\x01" + (3).to_bytes(4, "big") + b"abc", "unknown IDX data type"),
    (b"\x00\x00\x08\x03" + (3).to_bytes(4, "big"), "truncated IDX header"),
])
def test_malformed_files_name_the_problem(tmp_path, raw, problem):
    path = tmp_path / "bad"
    path.write_bytes(raw)
    with pytest.raises(DataError, match=problem) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (100).to_bytes(4, "big") + bytes(100))[:30])
    with pytest.raises(DataError, match="cannot read IDX"):
        read_idx(path)
