"""Print the README's table of every registered name and every knob a space may use.

Run: python docs/scripts/registered_names.py
"""
from __future__ import annotations

from trainables.activations import ACTIVATIONS
from trainables.augment import AUGMENTATIONS
from trainables.data import DATASETS
from trainables.knobs import KNOBS, PER_BLOCK
from trainables.losses import LOSSES
from trainables.models import MODELS
from trainables.optimizers import OPTIMIZERS
from trainables.schedules import SCHEDULES


def main() -> None:
    print("| registry | names |\n|---|---|")
    for title, reg in [("model families (`family`)", MODELS), ("activations (`activation`)", ACTIVATIONS),
                       ("optimizers (`optimizer`)", OPTIMIZERS), ("losses (`loss`)", LOSSES),
                       ("lr schedules (`schedule`)", SCHEDULES), ("augmentations (`aug_<name>`)", AUGMENTATIONS),
                       ("datasets (`dataset.name`)", DATASETS)]:
        print(f"| {title} | {', '.join(f'`{n}`' for n in reg.names())} |")
    print("\n| knob | meaning | allowed |\n|---|---|---|")
    for name, knob in KNOBS.items():
        if knob.names is not None:
            allowed = "a registered name"
        elif knob.choices:
            allowed = " / ".join(map(str, knob.choices))
        elif knob.kind is bool:
            allowed = "true / false"
        elif getattr(knob, "check", None) is not None:
            allowed = "see meaning"
        else:
            lo = "(" if knob.low_open else "["
            allowed = f"{lo}{knob.low:g}, {knob.high:g}]"
        suffix = "_i" if name in PER_BLOCK else ""
        print(f"| `{name}{suffix}` | {knob.help} | {allowed} |")


if __name__ == "__main__":
    main()
