"""The Python API (`search.api`): your own arrays and a registered custom loader, checked before anything launches.

The example notebook (test_notebook.py) runs the whole API end to end; these tests cover what it does not:
bad data stopping a search before Ray is imported or a folder written, the `custom` dataset of the CLI,
and resuming a search on arrays, which needs the same arrays again.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import search as hps
from search.cli import main
from tests.conftest import synthetic_images
from trainables.data import DataError, in_memory

ROOT = Path(__file__).resolve().parents[2]

# must-show 3 (data): each bad input is one clear message, before launch, nothing written
BAD_DATA = {
    "mismatched lengths": ("(x, y[:-1])", "x_train has 40 images but y_train has 39 labels"),
    "labels out of range": ("{'x_train': x, 'y_train': y, 'class_names': ['a', 'b', 'c']}",
                            "y_train: label 3 at index 3 is outside [0, 3) (3 class_names given)"),
    "wrong dtype": ("(x.astype(np.int32), y)", "x_train: dtype int32; images must be uint8 (0-255) or float in [0, 1]"),
    "wrong rank": ("(x.reshape(40, -1), y)", "x_train: images N x H x W or N x C x H x W with N >= 1, got shape (40, 64)"),
}

_SCRIPT = """
import json, sys
import numpy as np
import search as hps
from trainables.data import DataError
x, y = np.zeros((40, 8, 8), np.uint8), np.arange(40) % 4
errors = {}
for case, expr in json.loads(sys.argv[1]).items():
    try:
        hps.run({"name": "never", "space": "mlp", "storage": sys.argv[2]}, data=eval(expr))
    except DataError as e:
        errors[case] = str(e)
print(json.dumps({"errors": errors, "ray_imported": "ray" in sys.modules}))
"""


def test_bad_arrays_stop_the_search_before_ray_starts_and_write_nothing(tmp_path: Path) -> None:
    cases = {case: expr for case, (expr, _) in BAD_DATA.items()}
    out = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(cases), str(tmp_path / "results")],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert set(result["errors"]) == set(BAD_DATA)
    for case, (_, message) in BAD_DATA.items():
        assert result["errors"][case].startswith(message), result["errors"][case]
    assert not result["ray_imported"] and not (tmp_path / "results").exists()


LOADERS = '''
import numpy as np

def load(n=40, data_dir=None):
    rng = np.random.default_rng(0)
    x = rng.random((n, 8, 8)).astype(np.float32)
    return {"x_train": x, "y_train": np.arange(n) % 4, "class_names": ["w", "x", "y", "z"]}

def load_bad():
    return {"x_train": np.zeros((10, 8, 8), np.uint8), "y_train": np.arange(10) % 4, "class_names": ["a", "b", "c"]}

def load_broken():
    raise RuntimeError("no files in /nowhere")
'''


def test_custom_loader_feeds_the_same_validation_and_splits(tmp_path: Path, make_experiment, capsys) -> None:
    (tmp_path / "my_loader.py").write_text(textwrap.dedent(LOADERS))
    loader = f"{tmp_path / 'my_loader.py'}:load"
    assert main(["data", "show", "custom", "--option", f"loader={loader}", "--option", "kwargs={n: 60}"]) == 0
    out = capsys.readouterr().out
    assert "load: 4 classes, images 1x8x8" in out and "splits: train 44, validation 4, test 12" in out
    for ref, message in ((f"{tmp_path / 'my_loader.py'}:load_bad",
                          "returned bad data: y_train: label 3 at index 3 is outside [0, 3)"),
                         (f"{tmp_path / 'my_loader.py'}:load_broken", "raised RuntimeError: no files in /nowhere"),
                         (f"{tmp_path / 'my_loader.py'}:nothing", "my_loader.py' has no attribute 'nothing'"),
                         ("no_such_module_xyz:load", "cannot import module 'no_such_module_xyz'")):
        exp = make_experiment("custom", dataset={"name": "custom", "options": {"loader": ref}, "train_subset": None})
        assert main(["run", str(exp)]) == 2
        err = capsys.readouterr().err
        assert message in err, err
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_a_search_on_arrays_resumes_only_with_the_same_arrays(ray_session, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = synthetic_images(120, num_classes=3, shape=(1, 8, 8))
    config = {"name": "arrays", "storage": str(tmp_path), "space": "mlp", "dataset": {"val_fraction": 0.25},
              "budget": {"num_samples": 2, "max_epochs": 1}, "resources": {"max_concurrent": 2}}
    first = hps.run(config, data=(x, y), progress="off")
    assert first.finished and len(hps.leaderboard(first)) == 2
    monkeypatch.setattr(in_memory, "_GIVEN", {})  # as in a new Python session: the arrays are in no file
    with pytest.raises(DataError, match=r"searched arrays given from Python \(120 train images 1x8x8, 3 classes"):
        hps.resume(first, num_samples=3, progress="off")
    with pytest.raises(DataError, match="the arrays given differ from those this search ran on"):
        hps.resume(first, data=(x, np.roll(y, 1)), num_samples=3, progress="off")
    again = hps.resume(first, data=(x.copy(), y.copy()), num_samples=3, progress="off")
    assert again.finished and len(hps.leaderboard(again)) == 3


def test_progress_choice_and_its_errors() -> None:
    import pickle

    from search.api import watchers
    from search.config import ConfigError, parse_config
    from search.notebook_progress import NotebookProgress, in_notebook
    from search.progress import LiveProgress

    cfg = parse_config({"name": "p", "space": "mlp"})
    assert not in_notebook()  # pytest is no Jupyter kernel: auto means the terminal view
    assert [type(c) for c in watchers(cfg, "auto")] == [LiveProgress]
    view = watchers(cfg, "notebook")[0]
    assert type(view) is NotebookProgress and view.tty and view.every_s == 1.0
    view.handle = object()  # a live display handle is never pickled into Ray's experiment state
    assert pickle.loads(pickle.dumps(view)).handle is None
    assert watchers(cfg, "off") == []
    with pytest.raises(ConfigError, match="progress"):
        watchers(cfg, "bars")
