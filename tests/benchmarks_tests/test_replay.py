"""Replay benchmark: the table format, the resumable builder (real Fashion-MNIST, tiny), and the simulator
on synthetic tables whose answers are known (which trials ASHA stops, regret 0 once the best is found)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.replay import table as T
from benchmarks.replay.simulate import METHODS, Method, Settings, load_table, main, simulate

SPACE = {"name": "toy", "params": {
    "opt": {"type": "categorical", "choices": ["a", "b"]},
    "x": {"type": "float", "low": 0.0, "high": 1.0},
    "y": {"type": "float", "low": 1e-3, "high": 1.0, "log": True, "when": {"opt": ["b"]}},
}}
# four configurations, run in this order (all enqueued as warm starts), 10 s per step, 4 steps
ORDERED = [({"opt": "a", "x": 0.1}, [0.5, 0.6, 0.7, 0.8]),
           ({"opt": "a", "x": 0.2}, [0.4, 0.9, 0.9, 0.9]),    # below the rung-1 cutoff (0.5): stopped at step 1
           ({"opt": "b", "x": 0.3, "y": 0.01}, [0.6, 0.65, 0.66, 0.67]),  # above both cutoffs: runs to the end
           ({"opt": "b", "x": 0.4, "y": 0.1}, [0.55, 0.58, 0.95, 0.95])]  # below rung 2's (0.625): stopped at 2


def write_table(path: Path, curves: list[tuple[dict, list[float]]], warm_start: list[dict] = (),
                seconds: float = 10.0) -> Path:
    T.write_meta(path, {"space": {**SPACE, "warm_start": list(warm_start)}, "space_ref": "toy"})
    for cid, (cfg, vals) in enumerate(curves):
        T.append_rows(path, [{"config_id": cid, "config": T.config_json(cfg), "step": s, "epoch": float(s),
                              "train_images_seen": 100 * s, "val_acc": v, "test_acc": v - 0.01,
                              "wall_seconds": seconds, "stopped_by": ""} for s, v in enumerate(vals, 1)])
    return path


def random_table(path: Path, n: int = 40, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    curves = []
    for _ in range(n):
        cfg = {"opt": str(rng.choice(["a", "b"])), "x": float(rng.random())}
        if cfg["opt"] == "b":
            cfg["y"] = float(10 ** rng.uniform(-3, 0))
        top = 0.9 - 0.3 * abs(cfg["x"] - 0.7) - (0.05 if cfg["opt"] == "a" else 0.0)
        curves.append((cfg, list(top - 0.2 / np.arange(1, 5))))
    return write_table(path, curves, warm_start=[curves[0][0]])


IN_ORDER = Method(METHODS["random"].sampler, asha=True, warm_start=True, doc="the warm starts, in order")


def test_asha_stops_the_trials_below_the_rung_cutoffs(tmp_path):
    table = load_table(write_table(tmp_path / "t", ORDERED, warm_start=[c for c, _ in ORDERED]))
    trace = simulate(table, IN_ORDER, seed=0, settings=Settings(workers=1, budget_s=1000, reduction_factor=2))
    assert trace.stopped == [(1, 1), (3, 2)]
    assert trace.trials == 4 and trace.steps == 4 + 1 + 4 + 2
    # one worker: config 0 ends at 40 s, 1 at 50 s, 2 at 90 s, 3 at 110 s
    assert trace.found_at(35)[:2] == pytest.approx((0.7, 0.69))
    assert trace.found_at(1000) == pytest.approx((0.8, 0.79, 0))
    assert trace.found_at(5)[2] == -1  # nothing reported yet


def test_without_asha_every_trial_runs_to_the_end(tmp_path):
    table = load_table(write_table(tmp_path / "t", ORDERED, warm_start=[c for c, _ in ORDERED]))
    no_asha = Method(IN_ORDER.sampler, asha=False, warm_start=True, doc="")
    trace = simulate(table, no_asha, seed=0, settings=Settings(workers=2, budget_s=1000))
    assert trace.stopped == [] and trace.steps == 16
    assert trace.found_at(1000)[:2] == pytest.approx((0.95, 0.94))
    assert trace.found_at(59)[0] == pytest.approx(0.9)  # two workers: config 1 reaches 0.9 at 40+10 s


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_uses_each_table_configuration_at_most_once(tmp_path, method):
    table = load_table(random_table(tmp_path / "t", n=12))
    trace = simulate(table, method, seed=1, settings=Settings(workers=3, budget_s=10_000))
    assert trace.trials == 12  # the table is used up, then the workers idle
    assert trace.found_at(10_000)[0] == pytest.approx(table.best_val)  # the best was found: regret 0


def test_same_seed_same_search_and_seeds_differ(tmp_path):
    table = load_table(random_table(tmp_path / "t"))
    settings = Settings(workers=2, budget_s=400)
    runs = {m: [simulate(table, m, seed=s, settings=settings).events for s in (5, 5, 6)] for m in ("tpe+asha", "random")}
    for m, (a, b, c) in runs.items():
        assert a == b, m
        assert a != c, m


def test_compare_writes_regret_json_markdown_and_png(tmp_path):
    path = random_table(tmp_path / "t")
    out = tmp_path / "out"
    main([str(path), "--seeds", "3", "--budgets-min", "0.5", "1", "100", "--methods", "random", "tpe+asha",
          "--out", str(out)])
    result = json.loads((out / "replay.json").read_text())
    assert set(result["methods"]) == {"random", "tpe+asha"} and result["seeds"] == 3
    for m in result["methods"].values():
        regret = m["regret"]["median"]
        assert regret[0] >= regret[1] >= regret[2] == 0.0  # 100 minutes: every configuration has been run
        assert m["test_acc"]["median"][2] == pytest.approx(result["table_best_val"] - 0.01)
    assert "| budget (min) | random | tpe+asha |" in (out / "replay.md").read_text()
    assert (out / "replay.png").stat().st_size > 1000


def test_table_rejects_gaps_in_steps(tmp_path):
    path = write_table(tmp_path / "t", ORDERED[:1])
    T.append_rows(path, [{"config_id": 1, "config": "{}", "step": 2, "epoch": 2.0, "train_images_seen": 1,
                          "val_acc": 0.5, "test_acc": 0.5, "wall_seconds": 1.0, "stopped_by": ""}])
    with pytest.raises(ValueError, match="config 1: steps"):
        T.curves_of(T.read_rows(path))


def test_build_table_trains_real_curves_and_resumes(tmp_path, fashion_dir):
    from benchmarks.replay.build_table import build_table, parse_args

    out = tmp_path / "smoke"
    common = ["--space", "lenet5", "--epochs", "1", "--train-subset", "600", "--test-subset", "200",
              "--data-dir", str(fashion_dir), "--out", str(out)]
    build_table(parse_args(common + ["--configs", "2"]))
    first = T.read_rows(out)
    build_table(parse_args(common + ["--configs", "3"]))  # resumes: trains only config 2
    rows = T.read_rows(out)
    assert list(rows["config_id"]) == [0, 1, 2] and rows.iloc[:2].equals(first)
    assert json.loads(rows["config"][0])["optimizer"] == "adam"  # config 0 is the space's warm start
    assert (rows["val_acc"] > 0.1).all() and (rows["wall_seconds"] > 0).all() and (rows["train_images_seen"] == 540).all()
    meta = T.read_meta(out)
    assert meta["train_images"] == 540 and meta["test_images"] == 200 and meta["build_seconds"] > 0
    with pytest.raises(SystemExit, match="differs"):
        build_table(parse_args(common + ["--configs", "3", "--seed", "1"]))


def test_rank_correlation_of_each_step_with_the_last(tmp_path):
    from benchmarks.replay.summary import rank_correlations

    # steps 1 and 4 order the configs identically (rho 1); step 2 reverses the order (rho -1)
    curves = [({"opt": "a", "x": x}, [v, 1 - v, 0.5, v + 0.1]) for x, v in ((0.1, 0.2), (0.2, 0.4), (0.3, 0.6))]
    rho = rank_correlations(load_table(write_table(tmp_path / "t", curves)))
    assert rho[1] == pytest.approx(1.0) and rho[2] == pytest.approx(-1.0) and rho[3] is None and rho[4] == pytest.approx(1.0)
