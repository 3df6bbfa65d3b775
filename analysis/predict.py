"""`hpsearch predict BUNDLE IMAGES...`: classify image files with a model bundle."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainables.data import DataError

from .bundle import Bundle, load_bundle
from .evaluate import predict_probs


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


def predict_files(bundle: Bundle | str | Path, paths: list[str | Path]) -> list[Prediction]:
    """The predicted class and its probability for every file, in order."""
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    if not paths:
        return []
    probs = predict_probs(b.model, b.preprocess, read_images(paths, b.in_shape), b.flip_tta)
    labels = probs.argmax(1)
    names = b.class_names
    return [Prediction(str(p), int(k), names[k], float(probs[i, k])) for i, (p, k) in enumerate(zip(paths, labels))]
