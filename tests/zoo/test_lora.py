"""zoo.lora: adapters that train alone, save small, reload onto their base only, and merge."""

import json
import zipfile

import keras
import numpy as np
import pytest

import zoo
from zoo.lora import (LoraReport, adapter_variables, enable_lora, load_adapters, lora_report,
                      merge_lora, save_adapters)
from zoo.quantize import leaf_layers

NAME = "transformer_classifier"


def toy_classifier():
    spec = zoo.get_spec(NAME)
    model = zoo.build(NAME, **spec.toy)
    x, y = spec.example_data(model.zoo_config, 8, seed=0)
    return model, x, y


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


@pytest.mark.parametrize("size", ["small", None])
def test_rank_8_trains_a_small_fraction_of_a_realistic_classifier(size):
    model = zoo.build(NAME, size=size) if size else zoo.build(NAME)
    report = enable_lora(model, rank=8)
    assert isinstance(report, LoraReport)
    assert report.trainable_fraction <= 0.10, report.summary()
    assert report.adapted and all(rank == 8 for _, rank in report.adapted)
    # the one-unit output layer cannot take rank 8: left (frozen) and reported
    assert [path for path, _ in report.skipped] == ["probabilities"]
    assert lora_report(model).adapted == report.adapted
    trainable = {id(v) for v in model.trainable_weights}
    assert all(id(v) in trainable for layer in leaf_layers(model)
               if getattr(layer, "lora_enabled", False) for v in adapter_variables(layer))
    assert len(trainable) == 2 * len(report.adapted)


def test_a_fit_step_changes_only_the_adapters_and_the_trained_head(tmp_path):
    model, x, y = toy_classifier()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # its optimizer is built: recompiled
    base = {v.path: value for v, value in zip(model.weights, values(model.weights))}
    report = enable_lora(model, rank=2, train=["probabilities"])
    assert report.trained == ("probabilities",)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    changed = {v.path for v in model.weights if v.path in base
               and not np.array_equal(base[v.path], keras.ops.convert_to_numpy(v))}
    assert changed == {"probabilities/kernel", "probabilities/bias"}
    adapters = [v for layer in leaf_layers(model) if getattr(layer, "lora_enabled", False)
                for v in adapter_variables(layer)]
    assert any(np.any(keras.ops.convert_to_numpy(v)) for v in adapters[1::2])  # B moved


def test_adapters_save_small_and_reload_onto_a_fresh_base(tmp_path):
    model, x, y = toy_classifier()
    zoo.save(model, tmp_path / "base.keras")
    enable_lora(model, rank=2, train=["probabilities"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    expected = predict(model, x)
    path = save_adapters(model, tmp_path / "adapters.npz")
    assert path.stat().st_size < (tmp_path / "base.keras").stat().st_size / 4
    assert not list(tmp_path.glob(".*partial*"))
    with pytest.raises(FileExistsError, match="already exists"):
        save_adapters(model, tmp_path / "adapters.npz")
    save_adapters(model, tmp_path / "adapters.npz", overwrite=True)
    fresh = zoo.load(tmp_path / "base.keras")
    report = load_adapters(fresh, tmp_path / "adapters.npz")
    assert report.adapted == lora_report(model).adapted
    np.testing.assert_allclose(predict(fresh, x), expected, rtol=0, atol=1e-6)
    assert {v.path for v in fresh.trainable_weights} == {v.path for v in model.trainable_weights}


def test_adapters_for_another_base_are_refused(tmp_path):
    model, _, _ = toy_classifier()
    enable_lora(model, rank=2)
    save_adapters(model, tmp_path / "adapters.npz")
    other, _, _ = toy_classifier()  # same architecture, other weights
    with pytest.raises(ValueError, match=r"made for another base model.*Received: path="):
        load_adapters(other, tmp_path / "adapters.npz")
    assert not lora_report(other).adapted
    smaller = zoo.build("dense_autoencoder_toy")
    with pytest.raises(ValueError, match="another base model"):
        load_adapters(smaller, tmp_path / "adapters.npz")


def _rewrite(source, target, change):
    arrays = dict(np.load(source, allow_pickle=False))
    change(arrays)
    np.savez(target, **arrays)


@pytest.mark.parametrize("damage, match", [
    (lambda a: a.pop("meta"), "no 'meta' description"),
    (lambda a: a.update(meta=np.array("{not json")), "not JSON"),
    (lambda a: a.update(meta=np.array(json.dumps({"format": "other"}))), "format"),
    (lambda a: a.update(a0=np.zeros((3, 3), "float32")), "should have shape"),
    (lambda a: a.update(a0=np.zeros((2, 2), "int64")), "not floats"),
    (lambda a: a.update(a0=np.array([object()], dtype=object)), "cannot be read"),
])
def test_malformed_adapter_files_are_refused(tmp_path, damage, match):
    model, _, _ = toy_classifier()
    zoo.save(model, tmp_path / "base.keras")
    enable_lora(model, rank=2)
    save_adapters(model, tmp_path / "good.npz")
    _rewrite(tmp_path / "good.npz", tmp_path / "bad.npz", damage)
    fresh = zoo.load(tmp_path / "base.keras", compile=False)
    with pytest.raises(ValueError, match=match):
        load_adapters(fresh, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="cannot be read"):
        (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
        load_adapters(fresh, tmp_path / "junk.npz")


@pytest.mark.parametrize("rank, match", [
    (0, r"positive integer. Received: rank=0"), (-3, "Received: rank=-3"),
    (2.0, "Received: rank=2.0"), (True, "Received: rank=True"), ("8", "Received: rank='8'"),
    (64, r"larger than every adaptable layer allows.*Received: rank=64"),
])
def test_bad_ranks_are_refused(rank, match):
    model, _, _ = toy_classifier()
    with pytest.raises(ValueError, match=match):
        enable_lora(model, rank)


def test_a_rank_too_large_for_a_named_layer_names_it():
    model, _, _ = toy_classifier()
    with pytest.raises(ValueError, match=r"layer 'probabilities'.*Received: rank=2, "
                                         r"layer='probabilities'"):
        enable_lora(model, 2, layers=["probabilities"])
    with pytest.raises(ValueError, match=r"matches no layer that LoRA can use"):
        enable_lora(model, 2, layers=["no_such_layer"])
    with pytest.raises(ValueError, match="Received: alpha=0"):
        enable_lora(model, 2, alpha=0)


def test_a_model_already_lora_enabled_is_refused():
    model, _, _ = toy_classifier()
    enable_lora(model, 2)
    with pytest.raises(ValueError, match="already enabled"):
        enable_lora(model, 2)


def test_merging_keeps_the_outputs_and_saves_a_plain_model(tmp_path):
    model, x, y = toy_classifier()
    enable_lora(model, rank=2, alpha=4, layers=["*attention*", "token_embedding"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    unmerged = predict(model, x)
    zoo.save(model, tmp_path / "lora.keras")  # unmerged: Keras saves kernels merged
    np.testing.assert_allclose(predict(zoo.load(tmp_path / "lora.keras"), x), unmerged,
                               rtol=0, atol=1e-5)
    merged_paths = merge_lora(model)
    assert "token_embedding" in merged_paths
    np.testing.assert_allclose(predict(model, x), unmerged, rtol=0, atol=1e-5)
    assert not lora_report(model).adapted
    assert len(model.trainable_weights) == len(model.weights)  # unfrozen again
    zoo.save(model, tmp_path / "merged.keras")
    config = zipfile.ZipFile(tmp_path / "merged.keras").read("config.json").decode()
    assert "lora_rank" not in config
    loaded = zoo.load(tmp_path / "merged.keras")
    np.testing.assert_allclose(predict(loaded, x), unmerged, rtol=0, atol=1e-5)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # the merged model still trains
    with pytest.raises(ValueError, match="needs a model with LoRA enabled"):
        merge_lora(model)
