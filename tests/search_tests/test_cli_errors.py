"""User mistakes print one `error:` line (exit 2), internal errors one line plus a --debug hint: no tracebacks."""
from __future__ import annotations

import pytest

from search import cli


@pytest.mark.parametrize("argv, message", [
    (["run", "{tmp}/missing.yaml"], "missing.yaml: <file> = "),
    (["run", "{tmp}"], "an existing experiment YAML file"),
    (["run", "{tmp}/exp.yaml", "--set", "budget.num_samples"], "--set: budget.num_samples = <missing>: KEY=VALUE"),
    (["resume", "{tmp}"], "is not an hpsearch experiment (no hpsearch.yaml)"),
    (["status", "{tmp}/nowhere"], "is not an hpsearch experiment"),
    (["leaderboard", "{tmp}"], "is not an hpsearch experiment"),
])
def test_user_mistakes_print_one_error_line(tmp_path, capsys, argv, message):
    (tmp_path / "exp.yaml").write_text("name: x\n")
    code = cli.main([a.format(tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_internal_errors_hide_the_traceback_unless_debug(tmp_path, capsys, monkeypatch):
    def broken(args):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(cli, "cmd_status", broken)
    assert cli.main(["status", str(tmp_path)]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err == "error: ZeroDivisionError: division by zero\n(run with --debug for the traceback)\n"
    assert cli.main(["--debug", "status", str(tmp_path)]) == cli.EXIT_INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err
