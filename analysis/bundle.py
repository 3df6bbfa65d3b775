"""A model bundle: a folder that `hpsearch predict` (or any Python) can load without the experiment.

    model.safetensors       the weights (no pickle)
    bundle.json             exact config, class names, preprocessing (input shape, channels, mean/std), flip TTA,
                            metrics
    test_predictions.csv    the final evaluation's prediction for every test image
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from trainables.checkpoint import trained_model
from trainables.data import DataError
from trainables.preprocess import Normalisation

FORMAT = "hpsearch-bundle/1"
WEIGHTS, META, PREDICTIONS = "model.safetensors", "bundle.json", "test_predictions.csv"


@dataclass
class Bundle:
    model: torch.nn.Module
    meta: dict[str, Any]

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return tuple(self.meta["preprocessing"]["in_shape"])

    @property
    def preprocess(self) -> Normalisation:
        """The normalisation the model was trained with, as stored in the bundle."""
        return Normalisation.from_dict(self.meta["preprocessing"])

    @property
    def flip_tta(self) -> bool:
        """Predict with flip test-time augmentation, as the bundle's metrics were measured (older bundles: off)."""
        return bool(self.meta.get("flip_tta", False))

    @property
    def mean(self) -> tuple[float, ...]:
        return self.preprocess.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.preprocess.std


def save_bundle(folder: str | Path, model: torch.nn.Module, config: dict[str, Any], class_names: list[str],
                in_shape: tuple[int, int, int], preprocess: Normalisation, metrics: dict[str, Any],
                source: dict[str, Any], flip_tta: bool = False) -> Path:
    """Write the bundle folder; returns it. `preprocess` is what the model was trained with (its TrialState's);
    `flip_tta`: whether `metrics` were measured, and predictions are to be made, with flip TTA."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(folder / WEIGHTS))
    meta = {
        "format": FORMAT, "source": source, "config": config, "class_names": list(class_names),
        "preprocessing": {"in_shape": list(in_shape), "channels": "L" if in_shape[0] == 1 else "RGB",
                          "resize": [in_shape[1], in_shape[2]], "scale": "uint8 / 255",
                          **preprocess.to_dict()},
        "flip_tta": bool(flip_tta),
        "metrics": metrics,
    }
    (folder / META).write_text(json.dumps(meta, indent=2, default=_plain))
    return folder


def load_bundle(folder: str | Path) -> Bundle:
    """Rebuild the model from `bundle.json` and load its weights (never the backbone's pretrained ones)."""
    folder = Path(folder)
    if not (folder / META).is_file() or not (folder / WEIGHTS).is_file():
        raise DataError(f"{folder}: not a model bundle (needs {META} and {WEIGHTS}; make one with `hpsearch final`)")
    meta = json.loads((folder / META).read_text())
    if meta.get("format") != FORMAT:
        raise DataError(f"{folder / META}: format {meta.get('format')!r} is not {FORMAT!r}")
    c, h, w = meta["preprocessing"]["in_shape"]
    model = trained_model(meta["config"], (c, h, w), len(meta["class_names"]), load_file(str(folder / WEIGHTS)))
    return Bundle(model, meta)


def _plain(v: Any) -> Any:
    """numpy scalars and arrays in metrics -> JSON."""
    return v.tolist() if hasattr(v, "tolist") else str(v)
