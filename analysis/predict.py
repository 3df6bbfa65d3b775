"""`hpsearch predict MODEL IMAGES...`: classify image files with a model bundle (one model or an ensemble)
or a file written by `hpsearch export` (model.onnx runs on onnxruntime alone)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainables.data import DataError

from .bundle import Bundle, load_bundle
from .exported import ExportedModel, is_exported, load_exported


@dataclass
class Prediction:
    path: str
    label: int
    name: str
    probability: float


def read_images(paths: list[str | Path], in_shape: tuple[int, int, int]) -> np.ndarray:
    """Image files -> uint8 [N, C, H, W] in the bundle's channels (L or RGB) and size."""
    from PIL import Image, UnidentifiedImageError

    c, h, w = in_shape
    out = np.empty((len(paths), c, h, w), dtype=np.uint8)
    for i, p in enumerate(paths):
        try:
            with Image.open(p) as src:
                im = src.convert("L" if c == 1 else "RGB")
                if im.size != (w, h):
                    im = im.resize((w, h), Image.Resampling.BILINEAR)
                a = np.asarray(im, dtype=np.uint8)
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"{p}: cannot read as an image ({e})") from None
        out[i] = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return out


def predict_files(model: Bundle | ExportedModel | str | Path, paths: list[str | Path]) -> list[Prediction]:
    """The predicted class and its probability for every file, in order. `model`: a bundle (folder) or an
    exported file (.onnx, .pt)."""
    if isinstance(model, (str, Path)):
        model = load_exported(model) if is_exported(model) else load_bundle(model)
    if not paths:
        return []
    probs = model.probabilities(read_images(paths, model.in_shape))
    labels = probs.argmax(1)
    names = model.class_names
    return [Prediction(str(p), int(k), names[k], float(probs[i, k])) for i, (p, k) in enumerate(zip(paths, labels))]


@dataclass
class ArrayPredictions:
    """Predicted class per image, its name, and every class's probability (rows sum to 1)."""

    labels: np.ndarray          # int64 [N]
    names: list[str]
    probabilities: np.ndarray   # float32 [N, classes]
    class_names: list[str]


def predict_arrays(bundle: Bundle | str | Path, images: np.ndarray) -> ArrayPredictions:
    """Classify uint8 images [N, C, H, W] shaped as the bundle's model expects (`Bundle.in_shape`)."""
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    if images.shape[1:] != tuple(b.in_shape):
        raise DataError(f"images: shape (C, H, W) {images.shape[1:]}, but the model takes {tuple(b.in_shape)}")
    probs = b.probabilities(images)  # one model or an ensemble's averaged members
    labels = probs.argmax(1).astype(np.int64)
    return ArrayPredictions(labels, [b.class_names[k] for k in labels], probs, b.class_names)
