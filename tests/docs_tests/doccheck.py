"""Read Markdown pages the way a user does: the commands they would type, and the links they would follow.

Commands are `hpsearch ...`, `python -m MODULE ...` and `python path/to/script.py ...` lines in code blocks
and inline code spans. Each is checked against the program's own `--help`: the subcommand (and its action,
for `spaces` and `data`) must exist, and every `--flag` the line uses must be listed. Links are checked
against the files and headings of the repository.
"""
from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI_MODULE = "search.cli"
ACTION_COMMANDS = ("spaces", "data")  # subcommands that take an action (list / show) first
SHELL_STOPS = {"|", "||", ">", ">>", "&&", ";", "&", "2>", "2>&1"}
PLACEHOLDERS = {"...", "…"}

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = re.compile(r"`([^`\n]+)`")
_ENV = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")
_COMMAND_START = re.compile(r"(?:^|\s--\s)((?:hpsearch|python3?\s+-m\s+\S+|python3?\s+\S+\.py)(?:\s.*)?)$")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Command:
    page: Path
    line: int
    text: str


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _split_fences(text: str) -> list[tuple[int, str, bool]]:
    """(line number, line, inside a fenced code block) for every line."""
    out, inside = [], False
    for n, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            inside = not inside
            continue
        out.append((n, line, inside))
    return out


def _command_in(fragment: str) -> str | None:
    fragment = fragment.strip().removeprefix("$ ").strip()
    fragment = _ENV.sub("", fragment)
    match = _COMMAND_START.search(fragment)
    return match.group(1) if match else None


def commands(page: Path, text: str | None = None) -> list[Command]:
    """Every command line of a page (continuation lines joined)."""
    text = page.read_text() if text is None else text
    found: list[Command] = []
    pending, start = "", 0
    for n, line, in_code in _split_fences(text):
        if in_code:
            if line.rstrip().endswith("\\"):  # a command continued on the next line
                pending, start = pending + line.rstrip()[:-1] + " ", start or n
                continue
            line, pending, start = pending + line, "", start or n
            cmd = _command_in(line)
            if cmd:
                found.append(Command(page, start, cmd))
            start = 0
            continue
        for span in _INLINE.findall(line):
            cmd = _command_in(span.replace("\\|", "|"))
            if cmd:
                found.append(Command(page, n, cmd))
    return found


def _tokens(cmd: str) -> list[str]:
    try:
        tokens = shlex.split(cmd, comments=True)
    except ValueError:  # an unbalanced quote in a synopsis: whitespace is enough to find flags
        tokens = cmd.split()
    for i, tok in enumerate(tokens):
        if tok in SHELL_STOPS:
            return tokens[:i]
    return tokens


def _flags(tokens: list[str]) -> list[str]:
    out = []
    for tok in tokens:
        tok = tok.strip("[](),")
        if tok.startswith("--") and len(tok) > 2:
            out.append(tok.split("=", 1)[0])
    return out


_helps: dict[tuple[str, ...], Future] = {}
_helps_lock = threading.Lock()


def help_text(argv: tuple[str, ...]) -> tuple[int, str]:
    """Exit status and output of `python ARGV --help`, run from the repository root (once per ARGV,
    also when several threads ask at the same time)."""
    with _helps_lock:
        future, mine = _helps.get(argv), False
        if future is None:
            future, mine = _helps.setdefault(argv, Future()), True
    if mine:
        try:
            future.set_result(_run_help(argv))
        except BaseException as e:  # noqa: BLE001 - handed to every waiting caller
            future.set_exception(e)
    return future.result()


def _run_help(argv: tuple[str, ...]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def _choices(help_out: str) -> set[str]:
    """The subcommands argparse lists as `{a,b,c}` in a usage message."""
    match = re.search(r"\{([\w,-]+)\}", help_out)
    return set(match.group(1).split(",")) if match else set()


def _listed(flag: str, help_out: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_out) is not None


def check_cli(args: list[str]) -> list[str]:
    """Problems of `hpsearch ARGS`: an unknown subcommand or action, or a flag its --help does not list."""
    problems = []
    base: tuple[str, ...] = ("-m", CLI_MODULE)
    i = 0
    while i < len(args) and args[i].startswith("--"):  # global flags, e.g. --debug
        if not _listed(args[i], help_text(base)[1]):
            problems.append(f"no global flag {args[i]} in `hpsearch --help`")
        i += 1
    if i >= len(args) or args[i] in PLACEHOLDERS:
        return problems
    sub = args[i]
    if sub not in _choices(help_text(base)[1]):
        return problems + [f"no subcommand {sub!r} (hpsearch --help lists {sorted(_choices(help_text(base)[1]))})"]
    path = (*base, sub)
    rest = args[i + 1:]
    if sub in ACTION_COMMANDS and rest and rest[0] not in PLACEHOLDERS and not rest[0].startswith("-"):
        actions = _choices(help_text(path)[1])
        if rest[0] not in actions:
            return problems + [f"no action {rest[0]!r} of `hpsearch {sub}` (allowed: {sorted(actions)})"]
        path, rest = (*path, rest[0]), rest[1:]
    out = help_text(path)[1]
    shown = "hpsearch " + " ".join(path[2:])
    return problems + [f"`{shown} --help` lists no {flag}" for flag in _flags(rest) if not _listed(flag, out)]


def check_command(cmd: str) -> list[str]:
    """Problems of one documented command line; [] when it matches the programs' --help."""
    tokens = _tokens(cmd)
    if not tokens:
        return []
    if tokens[0] == "hpsearch":
        return check_cli(tokens[1:])
    if len(tokens) >= 3 and tokens[1] == "-m":
        module, rest = tokens[2], tokens[3:]
        if module in PLACEHOLDERS:
            return []
        if module == CLI_MODULE:
            return check_cli(rest)
        code, out = help_text(("-m", module))
        if code != 0:
            return [f"`python -m {module} --help` failed ({code}): {out.strip()[-300:]}"]
        return [f"`python -m {module} --help` lists no {flag}" for flag in _flags(rest) if not _listed(flag, out)]
    script, rest = tokens[1], tokens[2:]
    if not (ROOT / script).is_file():
        return [f"no script {script}"]
    flags = _flags(rest)
    if not flags:  # only scripts that take flags are asked for --help (the others may not parse it)
        return []
    code, out = help_text((script,))
    if code != 0:
        return [f"`python {script} --help` failed ({code}): {out.strip()[-300:]}"]
    return [f"`python {script} --help` lists no {flag}" for flag in flags if not _listed(flag, out)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@functools.cache
def anchors(page: Path) -> frozenset[str]:
    counts: dict[str, int] = {}
    out = set()
    for _, line, in_code in _split_fences(page.read_text()):
        match = None if in_code else _HEADING.match(line)
        if match:  # a repeated heading gets -1, -2, ... as on GitHub
            base = slug(match.group(2))
            out.add(f"{base}-{counts[base]}" if base in counts else base)
            counts[base] = counts.get(base, 0) + 1
    return frozenset(out)


def check_links(page: Path, text: str | None = None) -> list[str]:
    """Problems of the relative links of a page: a missing file, or a heading the target does not have."""
    text = page.read_text() if text is None else text
    problems = []
    for n, line, in_code in _split_fences(text):
        if in_code:
            continue
        for target in _LINK.findall(_INLINE.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            dest = (page.parent / path_part).resolve() if path_part else page
            where = f"{page.relative_to(ROOT)}:{n}: {target}"
            if not dest.exists():
                problems.append(f"{where}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    return problems
