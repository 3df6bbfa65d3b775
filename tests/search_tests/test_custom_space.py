"""Before launch: a custom model's space (its own parameters, its builder) and `cluster.runtime_env` are
checked with errors naming the field and the reference; builder files are shipped through runtime_env."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from search import cli
from search.config import ConfigError, parse_config
from search.custom_model import named_builders
from search.launch import checked_space
from search.space_check import check_space
from spaces import SpaceError, parse_space
from trainables.models.builders import resolve_builder

MOD = "tests.trainables_tests.custom_builders"
BASE = {"builder": {"type": "const", "value": f"{MOD}:tiny_cnn"}, "lr": {"type": "float", "low": 1e-3, "high": 1e-2}}


def _space(**params) -> dict:
    return {"name": "mine", "params": {"family": {"type": "const", "value": "custom"}, **BASE, **params}}


def test_own_parameters_are_allowed_where_only_a_custom_model_reads_them():
    check_space(parse_space(_space(width={"type": "int", "low": 4, "high": 16})))
    mixed = _space(width={"type": "int", "low": 4, "high": 16, "when": {"family": "custom"}})
    mixed["params"]["family"] = {"type": "categorical", "choices": ["lenet5", "custom"]}
    check_space(parse_space(mixed))
    del mixed["params"]["width"]["when"]
    with pytest.raises(SpaceError, match="params.width: not a parameter the trainable understands; a parameter of "
                                         "your own must exist only when the family is one of \\['custom'\\]"):
        check_space(parse_space(mixed))
    with pytest.raises(SpaceError, match="params.weight_decy: not a knob; did you mean 'weight_decay'"):
        check_space(parse_space(_space(weight_decy={"type": "float", "low": 0.0, "high": 0.1})))
    with pytest.raises(SpaceError, match="params.width: not a parameter the trainable understands; known:"):
        check_space(parse_space({"params": {"family": {"type": "const", "value": "cnn"},
                                            "width": {"type": "int", "low": 4, "high": 16}}}))


def _experiment(tmp_path: Path, space: dict, **cluster) -> Path:
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space))
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({"name": "c", "space": "space.yaml", "cluster": cluster}))
    return path


@pytest.mark.parametrize("builder, message", [
    ("no_such_module_xyz:build", "params.builder: builder 'no_such_module_xyz:build': cannot import module "
                                 "'no_such_module_xyz'"),
    (f"{MOD}:nope", f"params.builder: builder '{MOD}:nope': '{MOD}' has no attribute 'nope'"),
    (f"{MOD}:two_args", f"params.builder: builder '{MOD}:two_args' takes (config, in_shape); hpsearch calls it "
                        "as builder(config, in_shape, num_classes)"),
], ids=["unimportable", "no-such-function", "wrong-signature"])
def test_a_builder_that_cannot_be_found_or_called_is_refused_before_launch(tmp_path, capsys, builder, message):
    path = _experiment(tmp_path, _space(builder={"type": "const", "value": builder}))
    assert cli.main(["validate", str(path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "space.yaml" in err


def test_a_custom_space_without_a_builder_is_refused(tmp_path):
    space = _space()
    del space["params"]["builder"]
    path = _experiment(tmp_path, space)
    with pytest.raises(SpaceError, match="params.builder: family 'custom' needs a builder"):
        checked_space(parse_config(yaml.safe_load(path.read_text()), str(path)), tmp_path)


def test_code_from_runtime_env_resolves_and_a_builder_file_is_shipped(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "shipped_nets_abc.py").write_text("def build(config, in_shape, num_classes):\n    pass\n")
    (tmp_path / "nets_file_abc.py").write_text("def build(config, in_shape, num_classes):\n    pass\n")
    space = _space(builder={"type": "categorical", "choices": ["shipped_nets_abc:build", "nets_file_abc.py:build"]})
    path = _experiment(tmp_path, space, runtime_env={"py_modules": ["code/shipped_nets_abc.py"]})
    cfg = parse_config(yaml.safe_load(path.read_text()), str(path))
    assert cfg.cluster.runtime_env == {"py_modules": [str(tmp_path / "code" / "shipped_nets_abc.py")]}
    checked = checked_space(cfg, tmp_path)
    file_ref = f"{tmp_path / 'nets_file_abc.py'}:build"  # absolute: trials and analysis find it from anywhere
    assert checked.param("builder").choices == ("shipped_nets_abc:build", file_ref)
    assert cfg.cluster.runtime_env["py_modules"] == [str(tmp_path / "code" / "shipped_nets_abc.py"),
                                                     str(tmp_path / "nets_file_abc.py")]


@pytest.mark.parametrize("env, message", [
    ({"workdir": "."}, "cluster.runtime_env.workdir = '.': one of ['working_dir', 'py_modules'"),
    ({"py_modules": ["missing_dir"]}, "cluster.runtime_env.py_modules[0] = 'missing_dir': an existing folder or file"),
    ({"working_dir": 3}, "cluster.runtime_env.working_dir = 3: a folder path or a URI"),
], ids=["unknown-key", "missing-path", "not-a-path"])
def test_runtime_env_is_checked(tmp_path, env, message):
    with pytest.raises(ConfigError) as e:
        parse_config({"cluster": {"runtime_env": env}}, str(tmp_path / "exp.yaml"))
    assert message in str(e.value)


def test_a_python_callable_becomes_a_registered_reference():
    def my_net(config, in_shape, num_classes):
        return None

    raw = named_builders(_space(builder={"type": "const", "value": my_net}))
    ref = raw["params"]["builder"]["value"]
    assert ref.endswith(":test_a_python_callable_becomes_a_registered_reference.<locals>.my_net")
    assert resolve_builder(ref) is my_net
    check_space(parse_space(raw))
