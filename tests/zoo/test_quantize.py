"""zoo.quantize: int8/int4 weights that zoo.save / zoo.load keep, on every backend."""

import json
import zipfile

import keras
import numpy as np
import pytest

import zoo
from tests.zoo.portability_worker import PORTED_QUANTIZED, QUANTIZED_MODELS, flat, unflat
from tests.zoo.test_sharing import BACKEND, OTHERS, finish, run_worker
from zoo.quantize import MODES, QuantizeReport, parameter_bytes, quantize


def toy(name):
    spec = zoo.get_spec(name)
    model = zoo.build(name, **spec.toy)
    x, _ = spec.example_data(model.zoo_config, 4, seed=0)
    return model, x


def outputs(model, x):
    return flat(model(x, training=False), "y")


@pytest.mark.parametrize("name", QUANTIZED_MODELS)
def test_quantized_model_is_close_and_survives_save_and_load(tmp_path, name):
    model, x = toy(name)
    before = outputs(model, x)
    report = quantize(model, "int8")
    assert isinstance(report, QuantizeReport) and report.quantized
    assert report.bytes_after < report.bytes_before
    assert report.bytes_after == parameter_bytes(model)
    assert any(keras.backend.standardize_dtype(v.dtype) == "int8" for v in model.weights)
    after = outputs(model, x)
    for key, value in before.items():  # int8: within a few percent of the output's scale
        scale = float(np.max(np.abs(value))) + 1e-6
        assert float(np.max(np.abs(after[key] - value))) <= 0.1 * scale, key
    zoo.save(model, tmp_path / "q.keras")
    card = zoo.read_card(tmp_path / "q.keras")
    assert sorted(card["quantization"]) == sorted(report.quantized)
    loaded = zoo.load(tmp_path / "q.keras", compile=False)
    assert sorted(_quantized_paths(loaded)) == sorted(report.quantized)
    for key, value in outputs(loaded, x).items():
        np.testing.assert_allclose(value, after[key], rtol=0, atol=1e-6, err_msg=key)


def _quantized_paths(model):
    from zoo.quantize import leaf_layers

    return [layer.path for layer in leaf_layers(model) if layer.quantization_mode]


def test_layers_inside_zoo_blocks_are_quantized_and_reloaded(tmp_path):
    """The attention and feed-forward layers a Transformer block builds itself:
    plain Keras reloads them in float (keras-hub#1705); zoo.load does not."""
    model, x = toy("transformer_classifier")
    report = quantize(model, "int8")
    inner = [path for path in report.quantized if "/" in path]
    assert any(path.endswith("attention/query") for path in inner)
    assert any(path.endswith("ff_hidden") for path in inner)
    zoo.save(model, tmp_path / "q.keras")
    with pytest.raises(ValueError, match="expected 2 variables"):
        keras.saving.load_model(tmp_path / "q.keras")  # what the card fixes
    loaded = zoo.load(tmp_path / "q.keras")  # compiled: quantized before the optimizer is built
    assert sorted(_quantized_paths(loaded)) == sorted(report.quantized)
    assert loaded.optimizer.built is False or loaded.trainable_weights


def test_int4_round_trips(tmp_path):
    model, x = toy("dense_autoencoder")
    report = quantize(model, "int4")
    assert report.mode == "int4" and report.bytes_after < report.bytes_before
    expected = outputs(model, x)
    zoo.save(model, tmp_path / "q.keras")
    for key, value in outputs(zoo.load(tmp_path / "q.keras", compile=False), x).items():
        np.testing.assert_allclose(value, expected[key], rtol=0, atol=1e-6)


def test_layers_limits_what_is_quantized():
    model, _ = toy("transformer_classifier")
    report = quantize(model, "int8", layers=["*ff_*"])
    assert report.quantized and all("ff_" in path for path in report.quantized)
    assert set(dict(report.skipped).values()) == {"not selected by `layers`"}
    assert sorted(_quantized_paths(model)) == sorted(report.quantized)


def test_a_pattern_that_matches_nothing_names_the_layers():
    model, _ = toy("dense_autoencoder")
    with pytest.raises(ValueError, match=r"matches no layer.*Received: layers=\['nope\*'\]"):
        quantize(model, "int8", layers=["nope*"])


@pytest.mark.parametrize("mode", ["float8", "gptq", "int2", None, 8])
def test_unsupported_modes_are_refused(mode):
    model, _ = toy("dense_autoencoder")
    with pytest.raises(ValueError, match=r"supports int8, int4\. Received: mode="):
        quantize(model, mode)
    assert MODES == ("int8", "int4")


def test_a_model_already_quantized_is_refused():
    model, _ = toy("dense_autoencoder")
    quantize(model, "int8")
    with pytest.raises(ValueError, match=r"already quantized.*Received: mode='int8'"):
        quantize(model, "int8")


def test_a_model_with_nothing_to_quantize_is_refused():
    inputs = keras.Input((6, 3))
    hidden = keras.layers.Conv1D(4, 3)(inputs)
    outputs_ = keras.layers.LSTM(2)(hidden)
    model = keras.Model(inputs, outputs_)
    with pytest.raises(ValueError, match=r"nothing to quantize.*Received: a model of Conv1D, "
                                         r"LSTMCell layers"):
        quantize(model, "int8")


def test_a_tampered_quantization_record_is_refused(tmp_path):
    model, _ = toy("dense_autoencoder")
    quantize(model, "int8")
    zoo.save(model, tmp_path / "q.keras")
    source = zipfile.ZipFile(tmp_path / "q.keras")
    card = json.loads(source.read("zoo_card.json"))
    card["quantization"] = {"no_such_layer": {"mode": "int8"}}
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, json.dumps(card) if info.filename == "zoo_card.json" else data)
    with pytest.raises(zoo.UnsafeModelError, match="no_such_layer"):
        zoo.load(tmp_path / "bad.keras")


@pytest.mark.parametrize("source", OTHERS)
def test_quantized_files_load_across_backends_with_the_same_outputs(tmp_path, source):
    """int8 models saved by a ``source`` process load here with the same outputs."""
    finish(run_worker(source, "quantized", tmp_path))
    for name in PORTED_QUANTIZED:
        model = zoo.load(tmp_path / f"{name}.keras", compile=False)
        assert _quantized_paths(model), name
        arrays = np.load(tmp_path / f"{name}.npz")
        for key, value in outputs(model, unflat(arrays, "x")).items():
            np.testing.assert_allclose(value, arrays[key], rtol=0, atol=1e-4,
                                       err_msg=f"{name}[{key}] {source} -> {BACKEND}")
