"""Result files are parsed once per process: an unchanged file comes from memory, a grown one is read from where
the last read stopped, a replaced or shrunk one from the start; a line still being written is never cached."""
from __future__ import annotations

import json
import os
from pathlib import Path

from analysis.layout import read_results


def line(epoch: int) -> str:
    return json.dumps({"epoch": epoch, "val_acc": epoch / 10}) + "\n"


def test_an_appended_file_is_read_from_where_the_last_read_stopped(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    f.write_text(line(1) + line(2))
    first = read_results(f)
    assert [r["epoch"] for r in first] == [1, 2]
    assert read_results(f)[0] is first[0], "an unchanged file is not parsed again"
    with open(f, "a") as out:
        out.write(line(3))
    grown = read_results(f)
    assert [r["epoch"] for r in grown] == [1, 2, 3]
    assert grown[0] is first[0] and grown[1] is first[1], "only the new line was parsed"


def test_a_line_still_being_written_is_read_once_it_is_whole(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    whole = line(2)
    f.write_text(line(1) + whole[:10])  # cut off: a crash, or the writer is mid-line
    assert [r["epoch"] for r in read_results(f)] == [1]
    with open(f, "a") as out:
        out.write(whole[10:])
    assert [r["epoch"] for r in read_results(f)] == [1, 2]


def test_a_replaced_or_shrunk_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    f.write_text(line(1) + line(2))
    assert len(read_results(f)) == 2
    other = tmp_path / "new.json"
    other.write_text(line(7))
    os.replace(other, f)  # a new inode
    assert [r["epoch"] for r in read_results(f)] == [7]
    f.write_text("")  # truncated in place
    assert read_results(f) == []
    f.write_text(line(5))
    assert [r["epoch"] for r in read_results(f)] == [5]


def test_a_missing_file_has_no_rows(tmp_path: Path) -> None:
    assert read_results(tmp_path / "nothing.json") == []
    assert read_results(tmp_path) == []
