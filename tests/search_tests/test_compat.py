"""The private Ray / Optuna / timm internals hpsearch relies on are all in the compat modules, and still exist.

One contract test per internal (search/_ray_compat.py, search/_optuna_compat.py): each fails naming the
attribute and the installed version when a release moves it. A source scan keeps every other module off
those internals.
"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import optuna
import pytest
import ray

from search import _optuna_compat, _ray_compat

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("spaces", "trainables", "search", "analysis")
COMPAT = {ROOT / "search" / "_ray_compat.py", ROOT / "search" / "_optuna_compat.py",
          ROOT / "trainables" / "_torch_compat.py"}
LIBRARIES = ("ray", "optuna", "timm")


def require(obj: Any, path: str, library: str = "ray") -> Any:
    """Walk `path` (dotted attributes) from obj; fail naming the attribute and version where it is gone."""
    version = {"ray": ray.__version__, "optuna": optuna.__version__}[library]
    for name in path.split("."):
        if not hasattr(obj, name):
            pytest.fail(f"{type(obj).__module__}.{type(obj).__qualname__}.{name} is gone in {library} {version} "
                        f"(hpsearch's compat modules were checked against {_ray_compat.CHECKED}, "
                        f"{_optuna_compat.CHECKED}): update search/_{library}_compat.py and the pin in pyproject.toml")
        obj = getattr(obj, name)
    return obj


@pytest.fixture
def tuner(tmp_path: Path):
    from ray import tune

    return tune.Tuner(lambda config: None, tune_config=tune.TuneConfig(num_samples=3),
                      run_config=tune.RunConfig(storage_path=str(tmp_path), callbacks=[]))


def test_tuner_tune_config_and_callbacks(tuner) -> None:
    require(tuner, "_local_tuner._tune_config.num_samples")
    require(tuner, "_local_tuner._run_config.callbacks")
    assert _ray_compat.restored_tune_config(tuner).num_samples == 3
    marker = object()
    _ray_compat.set_restored_callbacks(tuner, [marker])
    assert tuner._local_tuner._run_config.callbacks == [marker]


def test_asha_brackets_and_rungs() -> None:
    from types import SimpleNamespace

    from search.scheduler import ResumableASHA

    asha = ResumableASHA(time_attr="epoch", max_t=4, grace_period=1, reduction_factor=2)
    require(asha, "_brackets")
    bracket = _ray_compat.asha_bracket(asha)
    require(bracket, "_rungs")
    require(bracket, "on_result")
    bracket.on_result(SimpleNamespace(trial_id="t"), 1, 0.5)
    assert {m: len(r) for m, r in _ray_compat.asha_rungs(asha)} == asha.rung_sizes()
    assert asha.rung_sizes()[1] == 1


def test_search_generator_budget_and_storage(tmp_path: Path) -> None:
    from ray.tune.experiment import Experiment
    from ray.tune.search.optuna import OptunaSearch

    from search.search_generator import ExtendableSearchGenerator

    gen = ExtendableSearchGenerator(OptunaSearch(space={"x": optuna.distributions.FloatDistribution(0, 1)},
                                                 metric="m", mode="max"))
    gen.add_configurations([Experiment("e", lambda config: None, num_samples=3, storage_path=str(tmp_path))])
    for name in ("_total_samples", "_finished", "_experiment.spec", "_experiment.storage"):
        require(gen, name)
    assert _ray_compat.generator_budget(gen) == 3
    _ray_compat.extend_generator_budget(gen, 5)
    assert _ray_compat.generator_budget(gen) == 5 and not gen.is_finished()
    storage = _ray_compat.generator_storage(gen)
    for name in ("storage_filesystem", "storage_fs_path", "experiment_dir_name"):
        require(storage, name)
    _ray_compat.set_generator_storage(gen, storage)
    assert gen._experiment.storage is storage


def test_a_restored_concurrency_limiter_counts_the_trials_ray_continues(tmp_path: Path) -> None:
    """A kill between the limiter's save and Ray's: the limiter still counted a trial Ray had finished, so
    with max_concurrent 1 it proposed nothing after the resume and Tune waited 600 s per step (the S3
    resume test's 400 s timeout, session 10)."""
    from ray.tune.experiment import Experiment
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    from search.search_generator import ExtendableSearchGenerator

    def generator() -> ExtendableSearchGenerator:
        searcher = OptunaSearch(space={"x": optuna.distributions.FloatDistribution(0, 1)}, metric="m", mode="max")
        gen = ExtendableSearchGenerator(ConcurrencyLimiter(searcher, max_concurrent=1))
        gen.add_configurations([Experiment("e", lambda config: None, num_samples=4, storage_path=str(tmp_path))])
        return gen

    first = generator()
    assert first.next_trial() is not None and first.next_trial() is None  # one live trial: the limit holds
    stale = next(iter(first.searcher.live_trials))
    first.save_to_dir(str(tmp_path), "s")
    for continued, proposes in (({"running"}, False), (set(), True)):
        resumed = generator()
        resumed.continued_trials = continued  # Ray finished `stale`; it continues only `continued`
        resumed.restore_from_dir(str(tmp_path))
        require(resumed.searcher, "live_trials")
        assert resumed.searcher.live_trials == continued and stale not in resumed.searcher.live_trials
        assert (resumed.next_trial() is not None) == proposes
    unreset = generator()
    unreset.restore_from_dir(str(tmp_path))  # without the reset: the finished trial holds the only slot
    assert unreset.searcher.live_trials == {stale} and unreset.next_trial() is None


def test_optuna_search_internals(tmp_path: Path) -> None:
    from search.config import parse_config
    from search.searcher import build_searcher
    from spaces import get_preset

    cfg = parse_config({"name": "c", "space": "lenet5", "storage": str(tmp_path), "budget": {"num_samples": 2}},
                       "<test>")
    searcher = build_searcher(cfg, get_preset("lenet5"), str(tmp_path))
    searcher.suggest("t1")
    for name in ("_mode", "_ot_study", "_ot_trials", "_completed_trials", "_storage", "_study_name", "_sampler"):
        require(searcher, name)
    assert _ray_compat.optuna_search_mode(searcher) == "max"
    assert isinstance(_ray_compat.optuna_search_study(searcher), optuna.Study)
    assert set(_ray_compat.optuna_search_trials(searcher)) == {"t1"}
    assert _ray_compat.optuna_search_completed(searcher) == set()
    assert set(_ray_compat.optuna_search_pickle_state({})) <= set(vars(searcher)), "pickled names still exist"


def test_optuna_trial_storage_id(tmp_path: Path) -> None:
    study = optuna.create_study()
    trial = study.ask()
    require(trial, "_trial_id", "optuna")
    require(study.trials[0], "_trial_id", "optuna")
    same = _optuna_compat.live_trial(study, _optuna_compat.storage_id(trial))
    assert same.number == trial.number and _optuna_compat.storage_id(study.trials[0]) == _optuna_compat.storage_id(trial)


def test_tune_controller_failure_handling_is_where_the_fix_expects_it() -> None:
    from ray.tune.execution.tune_controller import TuneController

    for name in ("_trial_task_failure", "_cleanup_cached_actors", "_actor_failed", "_schedule_trial_reset"):
        require(TuneController, name)
    # the double count the fix undoes: a PENDING trial's actor failure is processed here, and again by
    # the failed reset task's own error callback
    source = inspect.getsource(TuneController._actor_failed)
    assert "_trial_task_failure" in source, f"TuneController._actor_failed changed in ray {ray.__version__}"
    assert "_resetting_trials" in inspect.getsource(TuneController._maybe_reuse_cached_actor)
    _ray_compat.count_actor_failures_once()
    _ray_compat.count_actor_failures_once()  # idempotent
    assert TuneController._trial_task_failure.hpsearch_patched


# -- the scan: nothing outside the compat modules touches Ray / Optuna / timm internals
def _third_party_roots(tree: ast.Module) -> dict[str, str]:
    """Local names bound by imports, to the top-level library they come from."""
    roots = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                roots[(a.asname or a.name).split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                roots[a.asname or a.name] = node.module.split(".")[0]
    return roots


def _own_private_names(tree: ast.Module) -> set[str]:
    """Private names the file itself defines: functions, classes, variables, and attributes its classes
    create in `__init__` (an attribute first assigned elsewhere may be a base class's, e.g. Ray's)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            names.update(n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                         and isinstance(n.value, ast.Name) and n.value.id == "self")
    return names


def private_accesses(path: Path) -> list[str]:
    """Violations in one file. The rules:

    1. no import of a private module of ray, optuna or timm (any dotted component starting with `_`,
       e.g. `ray.train._internal`, `timm.models._manipulate`), nor of a private name from them;
    2. no `x._name` (one leading underscore, not a dunder) unless the file itself defines `_name`
       (its own functions, classes and variables, attributes its classes set in `__init__`), or `x`
       is a module imported
       from a library other than ray/optuna/timm (their internals are not this rule's concern).
       So `self._max_epochs` set in `__init__` passes, while `self._mode` inherited from OptunaSearch,
       `tuner._local_tuner` or `study._storage` fail.
    """
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    roots, own = _third_party_roots(tree), _own_private_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            names = [] if isinstance(node, ast.Import) else [a.name for a in node.names]
            for m in modules:
                parts = m.split(".")
                if getattr(node, "level", 0) == 0 and parts[0] in LIBRARIES and (
                        any(p.startswith("_") for p in parts) or any(n.startswith("_") for n in names)):
                    found.append(f"{where}:{node.lineno}: import of private {m}")
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if not name.startswith("_") or name.startswith("__") or name in own:
                continue
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and roots.get(base.id, "ray") not in LIBRARIES:
                continue  # e.g. torch.cpu._is_amx_tile_supported: another library's business
            found.append(f"{where}:{node.lineno}: .{name}")
    return found


def test_one_cycle_phases_are_where_the_resize_expects_them() -> None:
    import torch

    from trainables import _torch_compat

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100, pct_start=0.25)
    if not hasattr(schedule, "_schedule_phases"):
        pytest.fail(f"OneCycleLR._schedule_phases is gone in torch {torch.__version__} (trainables/_torch_compat.py "
                    f"was checked against {_torch_compat.CHECKED}): update it")
    assert [p["end_step"] for p in _torch_compat.one_cycle_phases(schedule)] == [24.0, 99]


def test_no_private_ray_optuna_timm_access_outside_the_compat_modules() -> None:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if p not in COMPAT]
    violations = [v for p in files for v in private_accesses(p)]
    assert violations == [], "move these into search/_ray_compat.py or search/_optuna_compat.py:\n" + "\n".join(
        violations)


def test_the_scan_catches_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from timm.models._manipulate import group_parameters\n"
                      "from ray.tune.search import SearchGenerator\n"
                      "class G(SearchGenerator):\n"
                      "    def set_state(self, state):\n"
                      "        self._total_samples = 3\n"
                      "from ray.tune.search.optuna import OptunaSearch\n"
                      "import torch\n"
                      "class S(OptunaSearch):\n"
                      "    def __init__(self):\n"
                      "        self._own = 1\n"
                      "    def f(self, tuner, study):\n"
                      "        torch.cpu._is_amx_tile_supported()\n"
                      "        return self._own, self._mode, tuner._local_tuner, study._storage\n")
    found = sorted(f.split(": ", 1)[1] for f in private_accesses(sample))
    assert found == sorted(["import of private timm.models._manipulate", "._total_samples", "._mode", "._local_tuner",
                            "._storage"]), found


def test_tpe_reads_constraints_told_by_set_constraint() -> None:
    """hpsearch tells constraints with the public `Trial.set_constraint` (Optuna 5.0) and relies on TPE ranking
    infeasible trials by `FrozenTrial.constraints` with no `constraints_func` (deprecated in 5.0)."""
    from optuna.samplers._tpe import sampler as tpe

    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    trial.set_constraint("param_count <= 10", 5.0)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    assert study.trials[0].constraints == {"param_count <= 10": 5.0}
    split = require(tpe, "_split_trials", "optuna")
    assert "_get_infeasible_trial_score" in inspect.getsource(split), f"TPE's split changed in optuna {optuna.__version__}"
    assert require(tpe, "_get_infeasible_trial_score", "optuna")(study.trials[0]) == 5.0
