"""The README and docs/ stay true to the code: commands, flags, links, defaults and generated tables.

No search runs here: commands are checked against each program's `--help`, not executed.
"""
from __future__ import annotations

import importlib.util
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.docs_tests import doccheck as dc

README = dc.ROOT / "README.md"
MAX_README_LINES = 300


def all_commands() -> list[dc.Command]:
    return [c for page in dc.pages() for c in dc.commands(page)]


def test_readme_is_a_front_door():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; keep it <= {MAX_README_LINES}"
    text = README.read_text()
    for command in ("bash scripts/demo.sh", "bash scripts/test.sh"):
        assert command in text


def _problems(cmds: list[dc.Command]) -> list[str]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # each --help is a fresh Python process: overlap them
        results = list(pool.map(lambda c: dc.check_command(c.text), cmds))
    return [f"{c.page.relative_to(dc.ROOT)}:{c.line}: {c.text}\n    {p}" for c, found in zip(cmds, results) for p in found]


def _is_cli(c: dc.Command) -> bool:
    return c.text.startswith("hpsearch") or dc.CLI_MODULE in c.text.split()[:3]


def test_every_hpsearch_command_matches_the_cli_help():
    cmds = [c for c in all_commands() if _is_cli(c)]
    assert sum(c.page == README for c in cmds) >= 15, "the extractor stopped finding the README's commands"
    problems = _problems(cmds)
    assert not problems, "documented commands that do not match `hpsearch ... --help`:\n" + "\n".join(problems)


def test_every_python_command_matches_its_help():
    cmds = [c for c in all_commands() if not _is_cli(c)]
    assert any("benchmarks." in c.text for c in cmds)
    problems = _problems(cmds)
    assert not problems, "documented commands that do not match the script's --help:\n" + "\n".join(problems)


@pytest.mark.parametrize("renamed", [("--num-samples", "--num-sample"), ("--oneline", "--one-line"),
                                     ("hpsearch leaderboard", "hpsearch leaderbord")])
def test_a_renamed_flag_or_subcommand_is_caught(renamed):
    old, new = renamed
    text = README.read_text()
    assert old in text
    found = [p for c in dc.commands(README, text.replace(old, new)) for p in dc.check_command(c.text)]
    assert found and all(new.split()[-1] in p for p in found), found


def test_commands_are_found_in_code_blocks_and_inline():
    page = "\n".join(["Run `hpsearch status R --oneline` or:", "```bash",
                      "$ PYTHONPATH=$PWD python -m search.cli run x.yaml \\", "    --set a=1 --bogus  # comment",
                      "hpsearch spaces show full | less", "```", "plain prose hpsearch run --nothing"])
    cmds = dc.commands(README, page)
    assert [c.text.split()[:2] for c in cmds] == [["hpsearch", "status"], ["python", "-m"], ["hpsearch", "spaces"]]
    assert dc.check_command(cmds[0].text) == []
    assert dc.check_command(cmds[1].text) == ["`hpsearch run --help` lists no --bogus"]
    assert dc.check_command(cmds[2].text) == []
    assert dc.check_command("hpsearch spaces shoe full")[0].startswith("no action 'shoe'")


def test_every_relative_link_resolves():
    problems = [p for page in dc.pages() for p in dc.check_links(page)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_a_broken_link_or_anchor_is_caught():
    text = "[a](docs/resume.md#when-a-trial-fails) [b](docs/nope.md) [c](docs/resume.md#no-such-heading) [d](#commands)"
    problems = dc.check_links(README, text)
    assert len(problems) == 2 and "no file docs/nope.md" in problems[0] and "#no-such-heading" in problems[1]


def test_experiment_page_lists_every_field_with_the_codes_default():
    from search.config import ExperimentConfig

    text = (dc.ROOT / "docs" / "experiment.md").read_text()
    documented = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.DOTALL).group(1))
    assert documented == ExperimentConfig().to_dict()


def test_spaces_page_example_is_a_valid_space(tmp_path: Path):
    from search.space_check import check_space
    from spaces import resolve_space

    text = (dc.ROOT / "docs" / "spaces.md").read_text()
    example = tmp_path / "example.yaml"
    example.write_text(re.search(r"```yaml\n(.*?)```", text, re.DOTALL).group(1))
    check_space(resolve_space(str(example)))


def test_registered_names_table_is_generated_from_the_registries():
    spec = importlib.util.spec_from_file_location("registered_names", dc.ROOT / "docs" / "scripts" / "registered_names.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.in_page(gen.PAGE.read_text()) == gen.tables(), \
        "docs/spaces.md is behind the registries: run python docs/scripts/registered_names.py --write"
