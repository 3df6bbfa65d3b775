"""The experiment file: typed sections, validated up front with precise errors.

Sections split by concern: what to train (`dataset`, `space`), how to search (`budget`,
`search`), where to run (`resources`, `storage`, `address`). Precedence: defaults < file < --set < flags.

It lives in `analysis` because every experiment folder holds it (hpsearch.yaml, fully resolved) and
analysis reads it back to rebuild the data and settings; `search` validates the user's file with it
before launching (`search.config` re-exports it).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from spaces import DuplicateKeyError, safe_load_strict
from trainables.constraints import Constraint
from trainables.schema import METRICS

from .objectives import Objective, ObjectiveError, parse_constraints, parse_objectives


class ConfigError(ValueError):
    """Invalid experiment configuration: names the field, the value and what is allowed."""

    def __init__(self, source: str, field_path: str, value: Any, allowed: str) -> None:
        self.source, self.field, self.value, self.allowed = source, field_path, value, allowed
        shown = "<missing>" if value is _MISSING else repr(value)
        super().__init__(f"{source}: {field_path} = {shown}: {allowed}")


_MISSING = object()


def _f(default: Any, types: tuple[type, ...], allowed: str, check: Callable[[Any], bool] = lambda v: True,
       nullable: bool = False) -> Any:
    meta = {"types": types, "allowed": allowed, "check": check, "nullable": nullable}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


_INT, _NUM, _STR, _BOOL, _DICT, _LIST = (int,), (int, float), (str,), (bool,), (dict,), (list,)


@dataclass
class DatasetConfig:
    name: str = _f("fashion_mnist", _STR, "a registered dataset name")
    data_dir: str | None = _f(None, _STR, "a folder path, or null to search the default places", nullable=True)
    val_fraction: float = _f(0.1, _NUM, "a fraction in (0, 0.9]", lambda v: 0 < v <= 0.9)
    test_fraction: float = _f(0.2, _NUM, "a fraction in (0, 0.9] (used only if the dataset has no test set)",
                              lambda v: 0 < v <= 0.9)
    train_subset: int | None = _f(None, _INT, "an int >= 20 (train on a stratified subset), or null",
                                  lambda v: v >= 20, nullable=True)
    class_weights: bool = _f(False, _BOOL, "true or false (weight the loss by inverse class frequency)")
    sampling: str = _f("uniform", _STR, "uniform (each image once per epoch) or balanced (classes drawn equally often)",
                       lambda v: v in ("uniform", "balanced"))
    options: dict = _f({}, _DICT, "a mapping of dataset-specific options")


@dataclass
class BudgetConfig:
    num_samples: int = _f(8, _INT, "an int >= 1 (number of trials)", lambda v: v >= 1)
    max_epochs: int = _f(4, _INT, "an int >= 1", lambda v: v >= 1)
    grace_period: int = _f(1, _INT, "an int >= 1 and <= budget.max_epochs", lambda v: v >= 1)
    reduction_factor: float = _f(2, _NUM, "a number > 1", lambda v: v > 1)
    time_budget_s: float | None = _f(None, _NUM, "seconds > 0, or null for no time limit", lambda v: v > 0,
                                     nullable=True)
    max_epoch_seconds: float | str | None = _f(
        "auto", (int, float, str), "seconds > 0 (stop a trial whose first epoch would take longer), 'auto' (a "
        "quarter of budget.time_budget_s per grace-period epoch; no limit without a time budget) or null (no limit)",
        lambda v: v == "auto" if isinstance(v, str) else v > 0, nullable=True)
    final_share: float = _f(0.5, _NUM, "a number > 0 and < 1 (in time mode, the largest share of the time left after "
                            "start-up that the final training may take; the rest explores)", lambda v: 0 < v < 1)
    mode: str | None = _f(None, _STR, "time (plan trials, stages and a final training from budget.time_budget_s), "
                          "explicit (budget.num_samples trials of budget.max_epochs epochs), or null (time when "
                          "budget.time_budget_s is given without num_samples and max_epochs)",
                          lambda v: v in ("time", "explicit"), nullable=True)

    def epoch_time_limit(self) -> float | None:
        """Seconds a fresh trial's first epoch may take, or None for no limit.

        With a time budget, a trial that needs more than a quarter of the whole search's time to reach
        ASHA's first rung cannot be compared with the others before the budget runs out; it would hold
        its slot for nothing, so it is stopped within seconds instead (`auto`).
        """
        if isinstance(self.max_epoch_seconds, str):  # validation allows one string: "auto"
            if self.mode == "time":  # the plan sizes every stage to fit; no first-epoch limit on top
                return None
            return self.time_budget_s / (4 * self.grace_period) if self.time_budget_s else None
        return self.max_epoch_seconds


@dataclass
class SearchConfig:
    metric: str = _f("val_acc", _STR, "one of val_acc, val_f1_macro, val_loss, train_loss, train_acc")
    mode: str | None = _f(None, _STR, "max, min, or null (the metric's natural direction)",
                          lambda v: v in ("max", "min"), nullable=True)
    seed: int = _f(0, _INT, "an int >= 0", lambda v: v >= 0)
    startup_trials: int | None = _f(None, _INT, "an int >= 0 (random trials before TPE), or null for automatic",
                                    lambda v: v >= 0, nullable=True)
    warm_start: bool = _f(True, _BOOL, "true or false (evaluate the space's warm_start configurations first)")
    sampler: str = _f("tpe", _STR, "tpe (multivariate TPE), prior (draw around the space's warm starts, then the "
                      "best trial so far, handing over to TPE) or random (uniform, seeded)",
                      lambda v: v in ("tpe", "prior", "random"))
    prior_margin: float = _f(0.5, _NUM, "points >= 0 (time mode: the final training keeps the space's first warm "
                             "start unless another trial beats it by more than this at the highest stage both "
                             "reached; a point is a hundredth of the metric; 0 takes the leader)", lambda v: v >= 0)
    tta: bool | None = _f(None, _BOOL, "true, false, or null (flip test-time augmentation when scoring a model: on "
                          "for trials that train with aug_hflip > 0)", nullable=True)
    study_storage: str | None = _f(None, _STR, "null or journal (Optuna journal file optuna.journal with the results; "
                                   "safe on shared filesystems), sqlite (SQLite file optuna.db in a local results "
                                   "folder), or a database URL such as postgresql://user:pass@host/db",
                                   lambda v: v in ("journal", "sqlite") or "://" in v, nullable=True)
    objectives: list = _f([], _LIST, "a list of metrics to optimise together, the first being search.metric, e.g. "
                          "[val_acc, inference_ms] or [{metric: val_acc, mode: max}, {metric: param_count, mode: min}]")
    constraints: list = _f([], _LIST, "a list of 'METRIC <= NUMBER' or 'METRIC >= NUMBER' expressions, e.g. "
                           "['param_count <= 1e6', 'inference_ms <= 2']")


@dataclass
class ResourcesConfig:
    cpus_per_trial: float = _f(1, _NUM, "a number > 0", lambda v: v > 0)
    gpus_per_trial: float = _f(0, _NUM, "a number in [0, 1] (fractions pack trials on one GPU) or a whole number "
                               "up to 8", lambda v: 0 <= v <= 1 or (1 < v <= 8 and float(v).is_integer()))
    max_concurrent: int | None = _f(None, _INT, "an int >= 1, or null (as many as resources allow)",
                                    lambda v: v >= 1, nullable=True)
    max_failures: int = _f(2, _INT, "an int >= 0 (retries of a trial whose worker died)", lambda v: v >= 0)
    precision: str = _f("auto", _STR, "'auto' (bf16 autocast on a GPU that supports it, else fp32), 'fp32' or 'bf16'",
                        lambda v: v in ("auto", "fp32", "bf16"))
    channels_last: bool | None = _f(None, _BOOL, "true, false, or null (on for convolutional models on a GPU)",
                                    nullable=True)
    cudnn_benchmark: bool = _f(True, _BOOL, "true or false (let cuDNN pick the fastest kernels on a GPU)")
    micro_batch: int | None = _f(None, _INT, "an int >= 2 (always accumulate gradients over micro-batches of this "
                                 "size), or null (whole batches, split only when a GPU trial would not fit)",
                                 lambda v: v >= 2, nullable=True)
    memory_fit: bool = _f(True, _BOOL, "true or false (GPU trials: profile one step and split batches that would "
                          "not fit the trial's share of the GPU)")
    wait_for_resources_s: float | None = _f(None, _NUM, "seconds > 0 (on a cluster that adds nodes, wait this long for a "
                                            "node that can run a trial) or null (refuse at once)", lambda v: v > 0,
                                            nullable=True)


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass
class ClusterConfig:
    allow_unauthenticated: bool = _f(False, _BOOL, "true or false (join a cluster given by `address` even though it "
                                     "does not require Ray's token authentication: anyone who reaches it can run code)")
    runtime_env: dict = _f({}, _DICT, "a mapping handed to Ray as the job's runtime environment (working_dir, "
                           "py_modules, ...): how your own code (a custom model's builder) reaches every node")


@dataclass
class ExperimentConfig:
    name: str = _f("experiment", _STR, "letters, digits, '_', '.', '-' (at most 100)", lambda v: bool(_NAME_RE.match(v)))
    space: str = _f("cnn", _STR, "a preset name (hpsearch spaces list) or a path to a space YAML file")
    storage: str = _f("results", _STR, "a folder (or a URI such as s3://bucket/path) for results")
    address: str | None = _f(None, _STR, "null (local Ray), 'auto', HOST:PORT or ray://HOST:10001", nullable=True)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    pretrained_weights: dict = _f({}, _DICT, "a mapping of timm backbone name -> weights file "
                                  "(.safetensors or a PyTorch state dict)")
    source: str = field(default="<config>", compare=False, metadata={"internal": True})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("source")
        return d

    @property
    def mode(self) -> str:
        return self.search.mode or METRICS[self.search.metric]

    @property
    def objectives(self) -> list[Objective]:
        """What the search optimises, the primary (search.metric) first; one entry for a single objective."""
        return parse_objectives(self.search.objectives) or [Objective(self.search.metric, self.mode)]

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return parse_constraints(self.search.constraints)


_SECTIONS = {"dataset": DatasetConfig, "budget": BudgetConfig, "search": SearchConfig, "resources": ResourcesConfig,
             "cluster": ClusterConfig}


def load_config(path: str | Path, overrides: list[str] | None = None,
                flags: dict[str, Any] | None = None) -> ExperimentConfig:
    """Read an experiment file, apply `--set key=value` overrides and `flags`, validate everything.

    `flags` maps dotted keys to values taken as they are (e.g. `--data-dir 2024` stays the string "2024").
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ConfigError(source, "<file>", str(path), "an existing experiment YAML file")
    try:
        raw = safe_load_strict(path.read_text()) or {}
    except DuplicateKeyError as e:
        raise ConfigError(source, str(e.key), _MISSING, f"appears twice (line {e.line}); give each key once") from None
    except yaml.YAMLError as e:
        raise ConfigError(source, "<file>", _MISSING, f"valid YAML ({e})") from None
    return parse_config(raw, source, overrides, flags)


def apply_overrides(raw: dict[str, Any], overrides: list[str], source: str) -> dict[str, Any]:
    """`section.key=value` (value parsed as YAML) into a copy of `raw`."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for item in overrides:
        if "=" not in item:
            raise ConfigError("--set", item, _MISSING, "KEY=VALUE, e.g. budget.num_samples=12")
        key, text = item.split("=", 1)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        _set(out, key, value, "--set")
    return out


def _set(raw: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.strip().split(".")
    node = raw
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(source, key, value, f"{p} is not a section")
    node[parts[-1]] = value


def parse_config(raw: Any, source: str = "<config>", overrides: list[str] | None = None,
                 flags: dict[str, Any] | None = None) -> ExperimentConfig:
    """Validate a mapping into an ExperimentConfig (no side effects; files it names must exist)."""
    if not isinstance(raw, dict):
        raise ConfigError(source, "<top>", raw, "a mapping of sections (name, dataset, space, budget, ...)")
    raw = apply_overrides(raw, overrides or [], source)
    for key, value in (flags or {}).items():
        _set(raw, key, value, "flag")
    top = _build(ExperimentConfig, raw, "", source, sections=_SECTIONS)
    top.source = source
    _resolve_budget_mode(top.budget, raw.get("budget") or {}, source)
    _check_objectives(top, (raw.get("search") or {}).get("metric"), source)
    _cross_check(top, source)
    return top


def _build(cls: type, raw: dict[str, Any], prefix: str, source: str, sections: dict[str, type] | None = None) -> Any:
    sections = sections or {}
    allowed = [f.name for f in fields(cls) if not f.metadata.get("internal")]
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if key not in allowed:
            raise ConfigError(source, path, value, f"unknown key; allowed here: {allowed}")
        if key in sections:
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(source, path, value, f"a mapping with keys {[f.name for f in fields(sections[key])]}")
            kwargs[key] = _build(sections[key], value, f"{path}.", source)
            continue
        meta = next(f for f in fields(cls) if f.name == key).metadata
        kwargs[key] = _check_value(path, value, meta, source)
    return cls(**kwargs)


def _check_value(path: str, value: Any, meta: Any, source: str) -> Any:
    if value is None:
        if meta["nullable"]:
            return None
        raise ConfigError(source, path, value, meta["allowed"])
    types = meta["types"]
    ok_type = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok_type or (isinstance(value, float) and not math.isfinite(value)):
        raise ConfigError(source, path, value, meta["allowed"])
    if not meta["check"](value):
        raise ConfigError(source, path, value, meta["allowed"])
    return value


def _resolve_budget_mode(budget: BudgetConfig, given: dict[str, Any], source: str) -> None:
    """Decide null `budget.mode` from what the user gave: a time budget alone means "plan it all from the time"."""
    if budget.mode is None:
        explicit = "num_samples" in given or "max_epochs" in given
        budget.mode = "time" if budget.time_budget_s and not explicit else "explicit"
    if budget.mode == "time" and not budget.time_budget_s:
        raise ConfigError(source, "budget.mode", budget.mode, "explicit, or time together with budget.time_budget_s "
                          "(seconds the whole run may take, final training and test evaluation included)")


def _cross_check(cfg: ExperimentConfig, source: str) -> None:
    from trainables.data import DATASETS, DataError, check_options

    if cfg.budget.grace_period > cfg.budget.max_epochs:
        raise ConfigError(source, "budget.grace_period", cfg.budget.grace_period,
                          f"must be <= budget.max_epochs ({cfg.budget.max_epochs})")
    if cfg.search.metric not in METRICS:
        raise ConfigError(source, "search.metric", cfg.search.metric, f"one of {sorted(METRICS)}")
    natural = METRICS[cfg.search.metric]
    if cfg.search.mode and cfg.search.mode != natural:
        raise ConfigError(source, "search.mode", cfg.search.mode,
                          f"'{natural}' for metric {cfg.search.metric} (or null)")
    if cfg.dataset.name not in DATASETS:
        raise ConfigError(source, "dataset.name", cfg.dataset.name, f"one of {DATASETS.names()}")
    try:  # option names and flag types are checkable without touching the data (`hpsearch validate`)
        check_options(cfg.dataset.name, cfg.dataset.options)
    except DataError as e:
        raise ConfigError(source, "dataset.options", cfg.dataset.options, str(e)) from None
    if cfg.search.study_storage == "sqlite" and "://" in cfg.storage:
        raise ConfigError(source, "search.study_storage", "sqlite", "null, journal or a database URL: an object "
                          f"store ({cfg.storage}) holds no SQLite file")
    _check_weight_files(cfg, source)
    _check_runtime_env(cfg, source)
    _check_data_dir(cfg, source)
    if cfg.address is not None and not (cfg.address == "auto" or cfg.address.startswith("ray://")
                                        or re.fullmatch(r"[\w.-]+:\d+", cfg.address)):
        raise ConfigError(source, "address", cfg.address, "null, 'auto', HOST:PORT or ray://HOST:10001")


def _check_objectives(cfg: ExperimentConfig, metric_given: Any, source: str) -> None:
    """Objectives and constraints parse; the first objective becomes search.metric (stored in canonical form)."""
    s = cfg.search
    try:
        objectives, _ = parse_objectives(s.objectives), parse_constraints(s.constraints)
    except ObjectiveError as e:
        raise ConfigError(source, e.field, e.value, e.allowed) from None
    if not objectives:
        return
    primary = objectives[0]
    if metric_given is not None and metric_given != primary.metric:
        raise ConfigError(source, "search.metric", metric_given,
                          f"the first of search.objectives ({primary.metric}), or leave it out")
    if len(objectives) > 1 and s.sampler != "tpe":
        raise ConfigError(source, "search.sampler", s.sampler, "tpe with several search.objectives (multi-objective "
                          "TPE); the prior sampler optimises one metric")
    s.metric, s.objectives = primary.metric, [o.to_dict() for o in objectives]


def _check_weight_files(cfg: ExperimentConfig, source: str) -> None:
    """Backbone names must be timm models and files must exist; relative paths are from the experiment file."""
    import timm

    base = Path(source).parent if Path(source).is_file() else Path.cwd()
    resolved = {}
    for name, path in cfg.pretrained_weights.items():
        where = f"pretrained_weights.{name}"
        if not isinstance(name, str) or not timm.is_model(name.split(".")[0]):
            raise ConfigError(source, where, path, f"{name!r} is not a timm model name (see timm.list_models())")
        if not isinstance(path, str):
            raise ConfigError(source, where, path, "a path to a .safetensors or PyTorch state-dict file")
        full = (base / Path(path).expanduser()).resolve()
        if not full.is_file():
            raise ConfigError(source, where, path, f"an existing weights file ({full} does not exist)")
        resolved[name] = str(full)
    cfg.pretrained_weights = resolved  # absolute, so trials on any worker find them


RUNTIME_ENV_KEYS = ("working_dir", "py_modules", "excludes", "env_vars", "pip", "uv", "conda", "config")


def _check_runtime_env(cfg: ExperimentConfig, source: str) -> None:
    """Known Ray runtime_env keys; local code folders and files must exist, made absolute (relative paths are
    from the experiment file) so resume and analysis find them from any folder. Ray checks the rest."""
    env = cfg.cluster.runtime_env
    for key in env:
        if key not in RUNTIME_ENV_KEYS:
            raise ConfigError(source, f"cluster.runtime_env.{key}", env[key], f"one of {list(RUNTIME_ENV_KEYS)}")
    if "working_dir" in env:
        where = "cluster.runtime_env.working_dir"
        if not isinstance(env["working_dir"], str):
            raise ConfigError(source, where, env["working_dir"], "a folder path or a URI of a zip file")
        env["working_dir"] = _local_code(source, where, env["working_dir"])
    if "py_modules" in env:
        modules = env["py_modules"]
        if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
            raise ConfigError(source, "cluster.runtime_env.py_modules", modules,
                              "a list of package folders, .py files, .whl files or URIs")
        env["py_modules"] = [_local_code(source, f"cluster.runtime_env.py_modules[{i}]", m)
                             for i, m in enumerate(modules)]


def _local_code(source: str, where: str, path: str) -> str:
    """`path` made absolute if it is local (it must exist); a URI (s3://..., gs://...) as it is."""
    if "://" in path:
        return path
    base = Path(source).parent if Path(source).is_file() else Path.cwd()
    full = (base / Path(path).expanduser()).resolve()
    if not full.exists():
        raise ConfigError(source, where, path, f"an existing folder or file ({full} does not exist)")
    return str(full)


def _check_data_dir(cfg: ExperimentConfig, source: str) -> None:
    """A data folder the user named must exist (the automatic lookup is only for when none is named)."""
    if cfg.dataset.data_dir is None:
        return
    full = Path(cfg.dataset.data_dir).expanduser().resolve()
    if not full.exists():
        raise ConfigError(source, "dataset.data_dir", cfg.dataset.data_dir,
                          f"an existing folder (or file) holding the dataset ({full} does not exist)")
    cfg.dataset.data_dir = str(full)  # absolute, so resume and analysis find it from any folder
