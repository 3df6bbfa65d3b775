"""A model bundle: a folder that `hpsearch predict` (or any Python) can load without the experiment.

    model.safetensors       the weights (no pickle)
    bundle.json             exact config, class names, preprocessing (input shape, channels, mean/std), flip TTA,
                            metrics
    test_predictions.csv    the final evaluation's prediction for every test image

An ensemble's bundle (`hpsearch final --ensemble K`) holds no weights itself: its bundle.json lists
member folders (member_1 = the single best, ...), each a complete bundle with its own preprocessing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from trainables.checkpoint import trained_model
from trainables.data import DataError
from trainables.models import BuilderError
from trainables.preprocess import Normalisation

from .raw_model import RawImageClassifier, probabilities

FORMAT = "hpsearch-bundle/1"
WEIGHTS, META, PREDICTIONS = "model.safetensors", "bundle.json", "test_predictions.csv"


@dataclass
class Bundle:
    """A single model's bundle, or an ensemble's: then `model` is None and `members` are its member bundles."""

    model: torch.nn.Module | None
    meta: dict[str, Any]
    members: list[Bundle] = field(default_factory=list)

    def classifier(self) -> RawImageClassifier:
        """uint8 images [N, C, H, W] -> probabilities, preprocessing inside (an ensemble: its members' mean)."""
        parts = [(b.model, b.preprocess, b.flip_tta) for b in self.members or [self] if b.model is not None]
        return RawImageClassifier([(m, n) for m, n, _ in parts], [f for _, _, f in parts])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Probabilities [N, classes] for uint8 images [N, C, H, W]."""
        return probabilities(self.classifier(), x)

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return tuple(self.meta["preprocessing"]["in_shape"])

    @property
    def preprocess(self) -> Normalisation:
        """The normalisation the model was trained with, as stored in the bundle (an ensemble has one per member)."""
        if self.members:
            raise DataError("an ensemble bundle has no single normalisation: each member has its own")
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
        "preprocessing": {**_input_spec(in_shape), **preprocess.to_dict()},
        "flip_tta": bool(flip_tta),
        "metrics": metrics,
    }
    (folder / META).write_text(json.dumps(meta, indent=2, default=_plain))
    return folder


def save_ensemble_bundle(folder: str | Path, members: list[str], class_names: list[str],
                         in_shape: tuple[int, int, int], metrics: dict[str, Any], source: dict[str, Any]) -> Path:
    """Write an ensemble's bundle.json over member bundles already saved in `folder/<member>`, best first."""
    folder = Path(folder)
    meta = {"format": FORMAT, "members": list(members), "source": source, "class_names": list(class_names),
            "preprocessing": {**_input_spec(in_shape), "normalisation": "each member's own (see its bundle.json)"},
            "metrics": metrics}
    (folder / META).write_text(json.dumps(meta, indent=2, default=_plain))
    return folder


def load_bundle(folder: str | Path) -> Bundle:
    """Rebuild the model from `bundle.json` and load its weights (never the backbone's pretrained ones);
    an ensemble's bundle loads every member."""
    folder = Path(folder)
    if not (folder / META).is_file():
        raise DataError(f"{folder}: not a model bundle (needs {META} and {WEIGHTS}; make one with `hpsearch final`)")
    meta = json.loads((folder / META).read_text())
    if meta.get("format") != FORMAT:
        raise DataError(f"{folder / META}: format {meta.get('format')!r} is not {FORMAT!r}")
    if meta.get("members"):
        return Bundle(None, meta, [load_bundle(folder / m) for m in meta["members"]])
    if not (folder / WEIGHTS).is_file():
        raise DataError(f"{folder}: not a model bundle (needs {META} and {WEIGHTS}; make one with `hpsearch final`)")
    c, h, w = meta["preprocessing"]["in_shape"]
    try:
        model = trained_model(meta["config"], (c, h, w), len(meta["class_names"]), load_file(str(folder / WEIGHTS)))
    except BuilderError as e:  # a custom model: the bundle holds the builder's reference, not its code
        raise DataError(f"{folder}: {e}. A custom model's builder must be importable where the bundle is loaded "
                        "(its module installed or on PYTHONPATH; a Python callable registered with "
                        "trainables.models.register_builder)") from None
    return Bundle(model, meta)


def _input_spec(in_shape: tuple[int, int, int]) -> dict[str, Any]:
    """What an image must become before normalisation: channels, size, scale."""
    return {"in_shape": list(in_shape), "channels": "L" if in_shape[0] == 1 else "RGB",
            "resize": [in_shape[1], in_shape[2]], "scale": "uint8 / 255"}


def _plain(v: Any) -> Any:
    """numpy scalars and arrays in metrics -> JSON."""
    return v.tolist() if hasattr(v, "tolist") else str(v)
