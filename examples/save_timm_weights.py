"""Save timm backbone weights to .safetensors files, for machines that cannot reach the hub.

Run it where the Hugging Face hub is reachable, copy the files to the cluster, and name them in the
experiment file under `pretrained_weights:`. `--random` saves freshly initialised weights instead
(no network needed), which is how the transfer demo and tests exercise the file path offline.

    python examples/save_timm_weights.py resnet18 efficientnet_b0 --out weights/
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("backbones", nargs="+", help="timm model names, e.g. resnet18 or resnet18.a1_in1k")
    ap.add_argument("--out", default="weights", help="folder for <backbone>.safetensors (default: weights)")
    ap.add_argument("--random", action="store_true", help="random initialisation instead of pretrained weights")
    args = ap.parse_args(argv)
    import timm  # after parsing, so --help answers at once
    from safetensors.torch import save_file

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.backbones:
        model = timm.create_model(name, pretrained=not args.random)
        path = out / f"{name}.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
        print(f"  {name}: {path}")
    print("pretrained_weights:")
    for name in args.backbones:
        print(f"  {name}: {(out / f'{name}.safetensors').resolve()}")


if __name__ == "__main__":
    main()
