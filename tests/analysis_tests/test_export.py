"""ONNX and TorchScript exports of a bundle predict what the bundle predicts, from raw uint8 images.

Tiny models trained for one epoch on 600 real Fashion-MNIST images (accuracy does not matter, the
predictions must merely vary). ONNX is compared on all 10,000 real test images; TorchScript (traced,
the same graph) on the first 1,000, to keep the test short.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.bundle import load_bundle, save_bundle
from analysis.export import export_bundle
from analysis.exported import load_exported
from analysis.predict import predict_files
from trainables.checkpoint import trained_model
from trainables.data import ImageData, load_dataset
from trainables.data.split import make_trial_data
from trainables.loop import TrainSettings, run

from .conftest import run_cli

RESNET = "test_resnet.r160_in1k"  # a timm backbone small enough for a test (built without pretrained weights)
CONFIGS = {
    "lenet5": {"family": "lenet5", "lr": 3e-3},
    "cnn": {"family": "cnn", "conv_blocks": 2, "filters_1": 8, "filters_2": 16, "dense_units": 32, "lr": 3e-3},
    "timm": {"family": "timm", "backbone": RESNET, "pretrained": False, "image_size": 32, "lr": 3e-3,
             "batch_size": 32},
}


@pytest.fixture(scope="module")
def fashion(fashion_dir) -> ImageData:
    return load_dataset("fashion_mnist", str(fashion_dir))


@pytest.fixture(scope="module")
def bundles(fashion, tmp_path_factory):
    """name -> a bundle of CONFIGS[name] trained one epoch (made on first use, once per module)."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            trial = make_trial_data(fashion, 0.2, seed=0, train_subset=600)
            state = run(CONFIGS[name], trial, TrainSettings(max_epochs=1, num_threads=1), lambda _r, _s: None)
            assert state is not None and state.preprocess is not None
            model = trained_model(state.config, trial.in_shape, trial.num_classes, state.model)
            made[name] = save_bundle(tmp_path_factory.mktemp(name) / "bundle", model, state.config,
                                     trial.class_names, trial.in_shape, state.preprocess, {}, {"test": name})
        return made[name]

    return get


def assert_same_predictions(got: np.ndarray, ref: np.ndarray, label: str) -> None:
    same = float((got.argmax(1) == ref.argmax(1)).mean())
    diff = float(np.abs(got - ref).max())
    print(f"{label}: same argmax on {same:.2%} of {len(ref)} test images, max |p diff| {diff:.1e}")
    assert same >= 0.999 and diff <= 1e-4


@pytest.mark.parametrize("name", list(CONFIGS))
def test_exports_predict_as_the_bundle_on_the_test_set(name, bundles, fashion):
    bundle = load_bundle(bundles(name))
    ref = bundle.probabilities(fashion.x_test)
    assert len(np.unique(ref.argmax(1))) >= 3  # varied predictions: agreeing on them means something
    onnx = load_exported(export_bundle(bundles(name), "onnx"))
    assert onnx.class_names == bundle.class_names and onnx.in_shape == (1, 28, 28)
    assert_same_predictions(onnx.probabilities(fashion.x_test), ref, f"{name} onnx")
    script = load_exported(export_bundle(bundles(name), "torchscript"))
    assert_same_predictions(script.probabilities(fashion.x_test[:1000]), ref[:1000], f"{name} torchscript")


def test_onnx_file_needs_only_onnxruntime_and_hpsearch_predict_reads_it(bundles, fashion, tmp_path, capsys):
    onnx_file = tmp_path / "lenet.onnx"
    assert run_cli("export", str(bundles("lenet5")), "--out", str(onnx_file)) == 0
    images = fashion.x_test[:64, 0]  # [N, H, W] uint8, as the IDX file stores them
    np.save(tmp_path / "images.npy", images)
    script = (  # a user's program: onnxruntime and numpy, no torch, no hpsearch, no normalisation by hand
        "import json, sys, numpy as np, onnxruntime as ort\n"
        f"s = ort.InferenceSession({str(onnx_file)!r})\n"
        "meta = json.loads(s.get_modelmeta().custom_metadata_map['hpsearch'])\n"
        f"p = s.run(None, {{'images': np.load({str(tmp_path / 'images.npy')!r})}})[0]\n"
        "assert 'torch' not in sys.modules\n"
        "print(json.dumps({'layout': meta['layout'], 'type': s.get_inputs()[0].type, 'probs': p.tolist()}))\n")
    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert out["layout"] == "NHW" and out["type"] == "tensor(uint8)"
    ref = load_bundle(bundles("lenet5")).probabilities(fashion.x_test[:64])
    np.testing.assert_allclose(out["probs"], ref, atol=1e-4)

    files = []
    for i in range(8):  # PNG is lossless: the files hold exactly the test images
        files.append(tmp_path / f"test_{i}.png")
        Image.fromarray(images[i]).save(files[-1])
    capsys.readouterr()
    assert run_cli("predict", str(onnx_file), *map(str, files)) == 0
    lines = [ln.split("\t") for ln in capsys.readouterr().out.strip().splitlines()]
    expected = predict_files(bundles("lenet5"), files)
    assert [ln[1] for ln in lines] == [p.name for p in expected]
    np.testing.assert_allclose([float(ln[2]) for ln in lines], [p.probability for p in expected], atol=1e-4)


def test_export_of_a_folder_without_a_bundle_exits_2(tmp_path, capsys):
    assert run_cli("export", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "neither a model bundle nor an experiment" in err
    assert list(tmp_path.iterdir()) == []
