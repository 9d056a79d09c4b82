"""zoo.save / zoo.load / zoo.inspect: the model card, hashes, portability, resume."""

import json
import os
import pathlib
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

import zoo
from tests.zoo.portability_worker import flat, unflat

WORKER = pathlib.Path(__file__).with_name("portability_worker.py")
ROOT = WORKER.parents[2]  # the repository
BACKEND = keras.backend.backend()
OTHERS = [b for b in ("tensorflow", "jax", "torch") if b != BACKEND]
RECURRENT = (keras.layers.RNN, keras.layers.Bidirectional)


def run_worker(backend, command, directory):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(WORKER), command, str(directory)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process):
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]


# ------------------------------------------------------------------ save

def test_save_writes_card_and_hash_and_load_round_trips(tmp_path):
    model = zoo.build("dense_autoencoder_toy")
    x = np.random.default_rng(0).random((4, 4)).astype("float32")
    path = tmp_path / "ae.keras"
    digest = zoo.save(model, path, metadata={"dataset": "toy", "metrics": {"loss": np.float32(0.5)},
                                              "hyperparameters": {"code_size": 2}, "note": "hi"})
    assert (tmp_path / "ae.keras.sha256").read_text().split() == [digest, "ae.keras"]
    card = zoo.read_card(path)
    assert card["zoo_name"] == "dense_autoencoder_toy"
    assert card["zoo_config"]["code_size"] == 2
    assert card["backend"] == BACKEND and card["keras_version"] == keras.__version__
    assert card["dataset"] == "toy" and card["metrics"] == {"loss": 0.5}
    assert card["hyperparameters"] == {"code_size": 2} and card["metadata"] == {"note": "hi"}
    assert card["created"].endswith("+00:00") and card["parameters"] == model.count_params()
    loaded = zoo.load(path)
    assert loaded.zoo_name == "dense_autoencoder_toy"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)),
                               keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    report = zoo.inspect(path)
    assert (report["verdict"], report["hash_check"], report["sha256"]) == ("safe to load", "match", digest)
    # nothing but the two files: the temporary file was renamed into place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae.keras", "ae.keras.sha256"]


def test_save_never_overwrites_without_permission(tmp_path):
    model = zoo.build("dense_autoencoder_toy")
    path = tmp_path / "ae.keras"
    path.write_bytes(b"the user's own file")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        zoo.save(model, path)
    assert path.read_bytes() == b"the user's own file"
    digest = zoo.save(model, path, overwrite=True)
    assert zoo.inspect(path)["sha256"] == digest


@pytest.mark.parametrize("path, metadata, error, match", [
    ("model.h5", None, ValueError, r"\.keras files only.*path="),
    ("model.keras", ["not", "a", "dict"], TypeError, "metadata must be a dict"),
    ("model.keras", {"dataset": object()}, TypeError, "JSON-serialisable"),
])
def test_save_rejects_bad_arguments(tmp_path, path, metadata, error, match):
    with pytest.raises(error, match=match):
        zoo.save(zoo.build("dense_autoencoder_toy"), tmp_path / path, metadata=metadata)
    assert not list(tmp_path.iterdir())


def test_a_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    model = zoo.build("dense_autoencoder_toy")

    def broken_save(self, filepath, **kwargs):
        pathlib.Path(filepath).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(type(model), "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        zoo.save(model, tmp_path / "ae.keras")
    assert not list(tmp_path.iterdir())


def test_load_checks_the_hash_argument(tmp_path):
    path = tmp_path / "ae.keras"
    digest = zoo.save(zoo.build("dense_autoencoder_toy"), path)
    assert zoo.load(path, sha256=digest.upper()).zoo_name == "dense_autoencoder_toy"
    with pytest.raises(zoo.UnsafeModelError, match="SHA-256 mismatch.*sha256 argument"):
        zoo.load(path, sha256="0" * 64)
    with pytest.raises(FileNotFoundError):
        zoo.load(tmp_path / "missing.keras")


# ------------------------------------------------------------------ portability

@pytest.mark.parametrize("source", OTHERS)
def test_every_model_loads_across_backends_with_the_same_outputs(tmp_path, source):
    """Every registered model, saved by a ``source`` process, loads here with the same outputs.

    Each backend's session loads the files of the other two, so CI's three
    sessions cover all six (saved on, loaded on) pairs.
    """
    finish(run_worker(source, "save", tmp_path))
    worst, failures = {}, []
    for count, name in enumerate(zoo.list_models()):
        model = zoo.load(tmp_path / f"{name}.keras", compile=False)
        assert model.zoo_name == name
        assert zoo.read_card(tmp_path / f"{name}.keras")["backend"] == source
        arrays = np.load(tmp_path / f"{name}.npz")
        output = flat(model(unflat(arrays, "x"), training=False), "y")
        recurrent = any(isinstance(layer, RECURRENT) for layer in model.layers)
        tolerance = 1e-4 if recurrent else 1e-5
        for key, value in output.items():
            difference = float(np.max(np.abs(value - arrays[key]))) if value.size else 0.0
            worst[name] = max(worst.get(name, 0.0), difference)
            if not difference <= tolerance:
                failures.append(f"{name}[{key}]: {difference:.2e} > {tolerance:.0e}")
        if count % 12 == 11:
            keras.backend.clear_session()
    print(f"{source} -> {BACKEND}: largest difference {max(worst.values()):.2e} "
          f"({max(worst, key=worst.get)})")
    assert len(worst) == len(zoo.list_models())
    assert not failures, failures


# ------------------------------------------------------------------ resume

@pytest.mark.parametrize("name", ["vae", "denoising_autoencoder"])
def test_training_resumes_in_a_fresh_process_to_the_same_loss(tmp_path, name):
    """Save after three steps; a fresh process's next steps match the unbroken run.

    Both models draw noise in training (VAE sampling, input corruption) from
    seed generators whose state the file carries, and Adam's moments matter.
    (On torch, Keras' *unseeded* ``Dropout`` draws from torch's global
    generator instead, which no file can carry.)
    """
    spec = zoo.get_spec(name)
    model = zoo.build(name, **spec.toy)
    batches = [spec.example_data(model.zoo_config, 8, seed=step) for step in range(5)]
    for x, y in batches[:3]:
        model.train_on_batch(x, y)
    zoo.save(model, tmp_path / "model.keras")
    unbroken = [float(model.train_on_batch(x, y, return_dict=True)["loss"]) for x, y in batches[3:]]
    np.savez(tmp_path / "batches.npz", **{f"{part}{i}": array for i, (x, y) in enumerate(batches[3:])
                                          for part, array in (("x", x), ("y", y))})
    finish(run_worker(BACKEND, "resume", tmp_path))
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    np.testing.assert_allclose(resumed, unbroken, rtol=0, atol=1e-6)
    assert unbroken[0] != unbroken[1]  # the steps really trained
