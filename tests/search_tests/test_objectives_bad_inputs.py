"""Bad objectives, constraints and pick rules are refused before anything is written: exit 2, one line
naming the field. The first case runs the real `hpsearch run` in a fresh interpreter (as
test_bad_inputs.py does); the others call the same command in-process, which is faster."""
from __future__ import annotations

import pytest

from search.cli import main

from .test_bad_inputs import _assert_refused, _run


def test_an_unknown_objective_is_refused_by_the_real_command(make_experiment, tmp_path):
    exp = make_experiment("bad")
    out, seconds = _run([str(exp), "--set", "search.objectives=[val_acc, accuracy]"], tmp_path)
    line = _assert_refused(out, seconds, "search.objectives[1]", tmp_path / "results")
    assert "'accuracy'" in line and "inference_ms" in line, line  # what was given, and what is allowed


@pytest.mark.parametrize("setting, field, says", [
    ("search.objectives=[inference_ms, val_acc]", "search.objectives[0]", "ASHA stops trials on"),
    ("search.objectives=[{metric: val_acc, mode: min}]", "search.objectives[0].mode", "'max' for val_acc"),
    ("search.objectives=[val_acc, val_acc]", "search.objectives[1]", "at most once"),
    ("search.constraints=['flops <= 1e9']", "search.constraints[0]", "unknown metric 'flops'"),
    ("search.constraints=['param_count = 1e6']", "search.constraints[0]", "'METRIC <= NUMBER'"),
    ("search.constraints=['param_count <= lots']", "search.constraints[0]", "not a finite number"),
    ("search.constraints=param_count <= 1e6", "search.constraints", "a list of"),
], ids=["cost-first", "wrong-mode", "twice", "unknown-metric", "malformed", "not-a-number", "not-a-list"])
def test_bad_objectives_and_constraints_exit_2_naming_the_field(make_experiment, tmp_path, capsys, setting, field,
                                                                says):
    exp = make_experiment("bad")
    assert main(["run", str(exp), "--set", setting]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"{field} = " in lines[0] and says in lines[0], lines
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args, says", [
    (["--pick", "smallest"], "smallest-within:P"),
    (["--pick", "smallest-within:-1"], "points >= 0"),
    (["--pick", "tallest-within:0.5"], "one of best, smallest-within:P, fastest-within:P"),
    (["--pick", "best", "--trial", "abc"], "not both"),
], ids=["no-points", "negative", "unknown-rule", "pick-and-trial"])
def test_a_bad_pick_rule_exits_2_before_reading_the_experiment(tmp_path, capsys, args, says):
    missing = tmp_path / "never-read"  # the rule is checked first: the folder is not even looked at
    assert main(["final", str(missing), "--out", str(tmp_path / "out"), *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines
    assert not (tmp_path / "out").exists()
