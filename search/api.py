"""hpsearch from Python (a notebook): run or resume a search, watch it, rank, plot, retrain, predict.

Example:
    >>> from search import api as hps  # doctest: +SKIP
    >>> s = hps.run("examples/quickstart.yaml", data={"x_train": x, "y_train": y})  # doctest: +SKIP
    >>> hps.leaderboard(s).head()  # doctest: +SKIP
    >>> fm = hps.final(s)  # doctest: +SKIP
    >>> hps.predict(fm, x_new).labels  # doctest: +SKIP

The `hpsearch` CLI is a thin layer over these functions. Ray, torch and matplotlib load on first use.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from ray.tune import Callback

    from analysis.bundle import Bundle
    from analysis.final import FinalModel
    from analysis.load import Experiment
    from analysis.report import Report

    from .config import ExperimentConfig
    from .launch import Prepared

PROGRESS = ("auto", "notebook", "terminal", "off")


class Interrupted(KeyboardInterrupt):
    """The search was interrupted (Ctrl-C, or a notebook's interrupt); `path` resumes it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"interrupted. Resume with hps.resume({path!r}) or: hpsearch resume {path}")
        self.path = path


@dataclass(frozen=True)
class Search:
    """A search's results folder; the module's functions as methods (`s.leaderboard()`, `s.final()`)."""

    path: str

    @property
    def experiment(self) -> Experiment:
        from analysis import load_experiment

        return load_experiment(self.path)

    @property
    def finished(self) -> bool:
        """Every trial ended and the trial budget is spent (or a time budget ended the search)."""
        from analysis.experiment_data import saved_config
        from analysis.load import PENDING, UNFINISHED

        cfg, trials = saved_config(self.path), self.experiment.trials
        open_trials = len(trials[trials["ended"].isin([UNFINISHED, PENDING])]) if not trials.empty else 0
        return not (open_trials or len(trials) < cfg.budget.num_samples and not cfg.budget.time_budget_s)

    def leaderboard(self, **kwargs: Any) -> pd.DataFrame:
        return leaderboard(self, **kwargs)

    def figure(self, kind: str = "curves", **kwargs: Any) -> Figure:
        return figure(self, kind, **kwargs)

    def final(self, **kwargs: Any) -> FinalModel:
        return final(self, **kwargs)


Source = str | Path | Search


def _path(source: Source) -> str:
    """The experiment's folder or URI (s3://... stays a URI; a local path is made absolute)."""
    from analysis.location import as_path

    if isinstance(source, Search):
        return source.path
    where = as_path(str(source))
    return str(where.expanduser().resolve()) if isinstance(where, Path) else str(where)


def load(config: dict | str | Path, overrides: list[str] | None = None,
         flags: dict[str, Any] | None = None) -> tuple[ExperimentConfig, Path]:
    """The validated config (a dict, or a YAML file with `--set`-style overrides) and the folder it is relative to."""
    from .config import load_config, parse_config

    if isinstance(config, dict):
        return parse_config(config, "<config dict>", overrides, flags), Path.cwd()
    return load_config(config, overrides, flags=flags), Path(config).parent


def plan(config: dict | str | Path, *, data: Any = None, overrides: list[str] | None = None,
         flags: dict[str, Any] | None = None) -> Prepared:
    """Validate the config and the space, load (or take) and split the data. Writes nothing, starts nothing.

    `data` (arrays, see `trainables.data.image_data`) replaces the config's dataset; its split settings apply.
    The config's `space` may be a preset name, a file, or a space mapping (as in a space YAML file), whose
    custom-model `builder` may be a Python callable.
    """
    from spaces import parse_space
    from trainables.data import ARRAYS, image_data, remember

    from .custom_model import named_builders
    from .launch import prepare

    space = None
    if isinstance(config, dict) and isinstance(config.get("space"), dict):  # a space given inline, as data
        # a custom model's builder may be a Python callable (e.g. defined in the notebook): registered by name
        space = parse_space(named_builders(config["space"]), "<config dict>: space")
        config = {**config, "space": space.name}
    cfg, base_dir = load(config, overrides, flags)
    if data is not None:
        arrays = image_data(data)  # every check before anything is launched or written
        cfg.dataset.name, cfg.dataset.data_dir, cfg.dataset.options = ARRAYS, None, remember(arrays)
    return prepare(cfg, base_dir, space)


def watchers(cfg: ExperimentConfig, progress: str = "auto", verbose: bool = False, mlflow: str | None = None,
             progress_every: float = 30.0, used_s: float = 0.0) -> list[Callback]:
    """Ray Tune callbacks that show progress (`progress`: auto, notebook, terminal or off) and log to MLflow."""
    from .notebook_progress import NotebookProgress, in_notebook
    from .progress import LiveProgress, quiet_console

    if progress not in PROGRESS:
        raise ConfigError("<api>", "progress", progress, f"one of {list(PROGRESS)}")
    callbacks: list = []
    if not verbose:
        quiet_console()
    if not verbose and progress != "off":
        notebook = progress == "notebook" or progress == "auto" and in_notebook()
        view = NotebookProgress if notebook else LiveProgress
        callbacks.append(view(cfg.search.metric, cfg.mode, cfg.budget.num_samples, cfg.budget.max_epochs,
                              cfg.budget.time_budget_s, every_s=progress_every,
                              epoch_limit_s=cfg.budget.epoch_time_limit(), used_before_s=used_s))
    if mlflow:
        from .tracking import mlflow_callback

        callbacks.append(mlflow_callback(mlflow, cfg.name))
    return callbacks


def run(config: dict | str | Path, *, data: Any = None, progress: str = "auto", overrides: list[str] | None = None,
        address: str | None = None, flags: dict[str, Any] | None = None, verbose: bool = False,
        mlflow: str | None = None, progress_every: float = 30.0) -> Search:
    """Launch a search from a config dict or YAML file; returns when it ends.

    Args:
        config: the experiment (as in an experiment YAML file), or the file's path.
        data: your own arrays instead of the config's dataset: `(x_train, y_train)` or a dict with
            x_train, y_train and optional class_names, x_test, y_test (numpy or torch; images N x H x W or
            N x C x H x W, uint8 or float in [0, 1]; integer labels 0..K-1).
        progress: auto (an updating cell output in Jupyter, the live view in a terminal), notebook,
            terminal or off.
        overrides: `section.key=value` strings, as `hpsearch run --set`.
        address: a Ray cluster to run the trials on (auto, HOST:PORT or ray://HOST:10001); default: the
            config's `address`, else a Ray started here.

    Example:
        >>> s = run({"name": "demo", "space": "mlp", "budget": {"num_samples": 4}}, data=(x, y))  # doctest: +SKIP
    """
    flags = {**(flags or {}), **({"address": address} if address else {})}
    prep = plan(config, data=data, overrides=overrides, flags=flags)
    cfg = prep.cfg
    callbacks = watchers(cfg, progress, verbose, mlflow, progress_every)  # a bad `progress` fails before launch
    what = (f"{cfg.budget.time_budget_s:g} s in all (search, final training, test evaluation)"
            if cfg.budget.mode == "time" else f"{cfg.budget.num_samples} trials")
    print(f"hpsearch: {what} of space {prep.space.name!r} on {cfg.dataset.name} "
          f"({len(prep.loaded.y_train)} train / {len(prep.loaded.y_val)} validation images); results in {prep.path}")
    return _interruptible(prep.path, lambda: _launch(prep, verbose, callbacks))


def _launch(prep: Prepared, verbose: bool, callbacks: list) -> str:
    from .launch import run_experiment

    return run_experiment(prep, verbose, callbacks)


def _interruptible(path: str, fit: Callable[[], object]) -> Search:
    try:
        fit()
    except KeyboardInterrupt:
        raise Interrupted(path) from None
    return Search(path)


def resume(source: Source, *, data: Any = None, num_samples: int | None = None, address: str | None = None,
           progress: str = "auto", verbose: bool = False, mlflow: str | None = None,
           progress_every: float = 30.0) -> Search:
    """Continue an interrupted search where it stopped; `num_samples` raises its trial budget.

    A search on arrays given from Python needs the same arrays again (`data`): different ones are refused.
    Raises `search.run_record.NothingToResume` when a time budget is used up.
    """
    from .launch import check_resumable, resume_experiment
    from .run_record import time_used

    path = _path(source)
    cfg = check_resumable(path)  # a damaged state file fails here, in seconds
    _take_data(cfg, data)
    cfg.budget.num_samples = num_samples or cfg.budget.num_samples
    callbacks = watchers(cfg, progress, verbose, mlflow, progress_every, time_used(path))
    print(f"hpsearch: resuming {path}")
    return _interruptible(path, lambda: resume_experiment(path, verbose, callbacks, address, num_samples,
                                                          state_checked=True))


def _take_data(cfg: ExperimentConfig, data: Any) -> None:
    """Arrays given again for a search on arrays: the same ones (checked by fingerprint), held for this process."""
    from trainables.data import ARRAYS, DataError, check_same, image_data

    if data is None:
        return
    if cfg.dataset.name != ARRAYS:
        raise DataError(f"data: this search ran on dataset {cfg.dataset.name!r}, not on arrays given from Python; "
                        "leave data out")
    check_same(image_data(data), cfg.dataset.options)


def leaderboard(source: Source | list[Source], *, by: str = "best", top: int | None = None,
                family: str | None = None, ended: str | None = None) -> pd.DataFrame:
    """One row per trial, best first (several searches: one table, `experiment` column)."""
    from analysis import leaderboard as rank
    from analysis import load_experiment

    sources = source if isinstance(source, list) else [source]
    exps = [load_experiment(_path(s)) for s in sources]
    board = rank(exps, by=by, top=top, family=family, ended=ended)
    board.attrs.update(metric=exps[0].metric, mode=exps[0].mode)  # how it is ranked, for printing it
    return board


def report(source: Source, out: str | Path | None = None, *, top: int = 10, evaluate: int = 1, by: str = "best",
           data: Any = None) -> Report:
    """The HTML report (figures, leaderboard, test evaluation of the best `evaluate` trials)."""
    from analysis.experiment_data import saved_config
    from analysis.report import build_report

    _take_data(saved_config(_path(source)), data)
    return build_report(_path(source), out, top=top, evaluate_top=evaluate, by=by)


def final(source: Source, *, data: Any = None, trial: str | None = None, by: str = "best",
          out: str | Path | None = None, pick: str | None = None) -> FinalModel:
    """Retrain the best trial's config (or `trial`'s, or the one rule `pick` chooses, e.g.
    "smallest-within:0.5") on train+validation, test it once, write a bundle."""
    from analysis.experiment_data import saved_config
    from analysis.final import check_final_choice, final_model

    check_final_choice(trial, pick)  # a bad rule is refused before the experiment is read
    _take_data(saved_config(_path(source)), data)
    return final_model(_path(source), out, trial, by, pick=pick)


def cross_validate(source: Source, folds: int = 5, *, top: int = 3, by: str = "best", data: Any = None) -> pd.DataFrame:
    """K-fold stratified cross-validation of the top configs on train+validation."""
    from analysis.crossval import cross_validate as cv
    from analysis.experiment_data import saved_config

    _take_data(saved_config(_path(source)), data)
    return cv(_path(source), folds, top, by)


def figure(source: Source, kind: str = "curves", *, by: str = "best", top: int = 5, trial: str | None = None,
           data: Any = None) -> Figure:
    """A matplotlib Figure of the search (shown inline in Jupyter): one of `analysis.figures.KINDS`.

    best_so_far, curves (the `top` trials in colour), rungs, importance, slices, size; confusion and roc
    evaluate `trial` (default: the best) on the held-out test set.
    """
    from analysis.experiment_data import saved_config
    from analysis.figures import draw_figure

    if kind in ("confusion", "roc"):
        _take_data(saved_config(_path(source)), data)
    fig = draw_figure(_experiment(source), kind, by, top, trial)
    return _inline(fig)


def _experiment(source: Source) -> Experiment:
    from analysis import load_experiment

    return load_experiment(_path(source))


def _inline(fig: Figure) -> Figure:
    """Detach `fig` from pyplot (shown once, as the cell's value) and make Jupyter render it as PNG."""
    import matplotlib.pyplot as plt

    from .notebook_progress import in_notebook

    plt.close(fig)
    if in_notebook():  # the Agg backend the figures use registers no inline formatter
        from IPython import get_ipython

        png = get_ipython().display_formatter.formatters["image/png"]
        png.for_type_by_name("matplotlib.figure", "Figure", _png)
    return fig


def _png(fig: Figure) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def predict(model: str | Path | Bundle | FinalModel, images: Any) -> Any:
    """Classify arrays (N x H x W or N x C x H x W, uint8 or float in [0, 1]) or a list of image files.

    `model`: a bundle folder (from `final`), a loaded Bundle, or what `final` returned. Arrays give an
    `ArrayPredictions` (labels, names, probabilities); files give one `Prediction` per file.
    """
    from analysis.final import FinalModel
    from analysis.predict import predict_arrays, predict_files
    from trainables.data.arrays import as_images

    bundle = model.bundle if isinstance(model, FinalModel) else model
    if isinstance(images, (list, tuple)) and all(isinstance(p, (str, Path)) for p in images):
        return predict_files(bundle, list(images))
    return predict_arrays(bundle, as_images(images, "images"))
