"""Invalid space files are rejected with file, parameter path and the specific problem."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from search.space_check import check_space
from spaces import SpaceError, load_space, parse_space

INVALID = {
    "empty_choices": ("a: {type: categorical, choices: []}", "params.a.choices", "must be a non-empty list"),
    "low_gt_high": ("a: {type: float, low: 1.0, high: 0.5}", "params.a", "low (1.0) is greater than high (0.5)"),
    "log_nonpositive": ("a: {type: float, low: 0.0, high: 1.0, log: true}", "params.a.low", "a log range needs low > 0"),
    "unknown_type": ("a: {type: gaussian, low: 0, high: 1}", "params.a.type", "unknown parameter type 'gaussian'"),
    "cond_missing_param": ("a: {type: int, low: 1, high: 3, when: {ghost: 1}}", "params.a.when.ghost",
                           "names parameter 'ghost', which does not exist"),
    "cond_impossible_value": ("opt: {type: categorical, choices: [adam, sgd]}\n"
                              "m: {type: float, low: 0, high: 1, when: {opt: rmsprop}}", "params.m.when.opt",
                              "value 'rmsprop' can never be taken: opt is one of ['adam', 'sgd']"),
    "cycle": ("a: {type: int, low: 1, high: 2, when: {b: 1}}\nb: {type: int, low: 1, high: 2, when: {a: 1}}",
              "params.", "conditions form a cycle"),
    "duplicate_name": ("a: {type: int, low: 1, high: 2}\na: {type: int, low: 1, high: 3}", "a", "duplicate name"),
    "per_block_collision": ("n: {type: int, low: 1, high: 2}\nf: {type: int, low: 1, high: 2, per_block: n}\n"
                            "f_1: {type: int, low: 1, high: 2}", "params.f_1", "duplicate name"),
    "per_block_counter_missing": ("f: {type: int, low: 1, high: 2, per_block: blocks}", "params.f.per_block",
                                  "names parameter 'blocks', which does not exist"),
    "per_block_counter_not_int": ("n: {type: float, low: 1, high: 2}\nf: {type: int, low: 1, high: 2, per_block: n}",
                                  "params.f.per_block", "must be an int parameter"),
    "unknown_key": ("a: {type: int, low: 1, high: 2, lo: 3}", "params.a.lo", "unknown key for a int parameter"),
    "int_with_float_bound": ("a: {type: int, low: 1.5, high: 4}", "params.a.low", "must be a finite int, got 1.5"),
    "negative_step": ("a: {type: float, low: 0, high: 1, step: -0.1}", "params.a.step", "must be > 0"),
    "step_and_log": ("a: {type: float, low: 0.1, high: 1, step: 0.1, log: true}", "params.a.step",
                     "step and log cannot be combined"),
    "const_without_value": ("a: {type: const}", "params.a.value", "a const parameter needs a value"),
    "bad_name": ("2a: {type: int, low: 1, high: 2}", "params.2a", "must be identifiers"),
    "self_condition": ("a: {type: int, low: 1, high: 2, when: {a: 1}}", "params.a.when.a", "conditioned on itself"),
}


def write(tmp_path, body: str, extra: str = ""):
    path = tmp_path / "space.yaml"
    path.write_text("name: t\nparams:\n" + textwrap.indent(body, "  ") + "\n" + extra)
    return path


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_space_names_file_path_and_problem(tmp_path, name):
    body, where, problem = INVALID[name]
    path = write(tmp_path, body)
    with pytest.raises(SpaceError) as e:
        load_space(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: "), msg
    assert where in msg and problem in msg, msg


def test_at_least_twelve_distinct_messages():
    assert len({v[2] for v in INVALID.values()}) >= 12


@pytest.mark.parametrize("point, problem", [
    ("{opt: adam, m: 0.5}", "warm_start[0].m: given, but its condition (opt in ['sgd']) does not hold"),
    ("{opt: nadam}", "warm_start[0].opt: value 'nadam' is not one of ['adam', 'sgd']"),
    ("{lr: 0.1}", "warm_start[0].lr: not a parameter of space 't'"),
])
def test_warm_start_points_are_checked(tmp_path, point, problem):
    path = write(tmp_path, "opt: {type: categorical, choices: [adam, sgd]}\n"
                           "m: {type: float, low: 0, high: 1, when: {opt: sgd}}", f"warm_start:\n  - {point}\n")
    with pytest.raises(SpaceError, match=problem.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        load_space(path)


@pytest.mark.parametrize("body, problem", [
    ("optimizer: {type: categorical, choices: [adam, lion]}", "'lion' is not a registered name"),
    ("activation: {type: const, value: swishy}", "'swishy' is not a registered name"),
    ("dropout_rate: {type: float, low: 0, high: 0.5}", "not a parameter the trainable understands"),
    ("mlp_dropout_1: {type: float, low: 0, high: 1.5}", "1.5 is outside the allowed range"),
    ("seed: {type: int, low: 0, high: 3}", "'seed' is reserved"),
    ("filters: {type: int, low: 8, high: 64}", "not a parameter the trainable understands"),  # only per block
    ("mlp_layers: {type: int, low: 1, high: 2}\nfilters: {type: categorical, choices: [16], per_block: mlp_layers}",
     "per_block must be 'conv_blocks': the model reads one value per conv_blocks, not per mlp_layers"),
])
def test_space_checked_against_trainable_knobs(tmp_path, body, problem):
    space = load_space(write(tmp_path, body))
    with pytest.raises(SpaceError, match=problem):
        check_space(space)


def test_yaml_errors_and_non_mappings(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("params: [unclosed\n")
    with pytest.raises(SpaceError, match="not valid YAML"):
        load_space(p)
    with pytest.raises(SpaceError, match="params: must be a non-empty mapping"):
        parse_space({"name": "x", "params": {}}, "mem")
    with pytest.raises(SpaceError, match="no such file"):
        load_space(tmp_path / "missing.yaml")


def test_importing_spaces_pulls_no_torch_ray_or_optuna():
    code = "import sys, spaces; spaces.get_preset('full'); print(sorted(m for m in ('torch','ray','optuna') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
