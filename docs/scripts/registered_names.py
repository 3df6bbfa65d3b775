"""The tables of every registered name and every knob a space may use, generated from the registries.

Run: python docs/scripts/registered_names.py           # print the tables
     python docs/scripts/registered_names.py --write   # rewrite them in docs/spaces.md
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "spaces.md"
START, END = "<!-- registered-names:start", "<!-- registered-names:end -->"
_BLOCK = re.compile(re.escape(START) + r"[^\n]*\n(.*?)" + re.escape(END), re.DOTALL)


def tables() -> str:
    """The two Markdown tables: registries and their names, knobs and what they allow."""
    # imported here, so --help answers without importing torch
    from trainables.activations import ACTIVATIONS
    from trainables.augment import AUGMENTATIONS
    from trainables.data import DATASETS
    from trainables.knobs import KNOBS, PER_BLOCK
    from trainables.losses import LOSSES
    from trainables.models import MODELS
    from trainables.optimizers import OPTIMIZERS
    from trainables.schedules import SCHEDULES

    lines = ["| registry | names |", "|---|---|"]
    for title, reg in [("model families (`family`)", MODELS), ("activations (`activation`)", ACTIVATIONS),
                       ("optimizers (`optimizer`)", OPTIMIZERS), ("losses (`loss`)", LOSSES),
                       ("lr schedules (`schedule`)", SCHEDULES), ("augmentations (`aug_<name>`)", AUGMENTATIONS),
                       ("datasets (`dataset.name`)", DATASETS)]:
        lines.append(f"| {title} | {', '.join(f'`{n}`' for n in reg.names())} |")
    lines += ["", "| knob | meaning | allowed |", "|---|---|---|"]
    for name, knob in KNOBS.items():
        suffix = "_i" if name in PER_BLOCK else ""
        lines.append(f"| `{name}{suffix}` | {knob.help} | {_allowed(knob)} |")
    return "\n".join(lines) + "\n"


def _allowed(knob) -> str:
    if knob.names is not None:
        return "a registered name"
    if knob.choices:
        return " / ".join(map(str, knob.choices))
    if knob.kind is bool:
        return "true / false"
    if getattr(knob, "check", None) is not None:
        return "see meaning"
    lo = "(" if knob.low_open else "["
    return f"{lo}{knob.low:g}, {knob.high:g}]"


def in_page(text: str) -> str:
    """The generated part of a page's text (between the markers)."""
    match = _BLOCK.search(text)
    if match is None:
        raise ValueError(f"{PAGE}: no {START} ... {END} block")
    return match.group(1)


def write(page: Path = PAGE) -> None:
    text = page.read_text()
    old = in_page(text)
    page.write_text(text.replace(old, tables(), 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"rewrite the tables in {PAGE.name}")
    if ap.parse_args().write:
        write()
        print(f"wrote {PAGE}")
    else:
        print(tables(), end="")


if __name__ == "__main__":
    main()
