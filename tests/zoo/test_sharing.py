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


# ------------------------------------------------------------------ hashes

@pytest.mark.parametrize("sha256", ["abc", "0" * 63, "g" * 64, "0" * 65, 12345, b"0" * 64])
def test_a_malformed_sha256_argument_says_so(tmp_path, sha256):
    path = tmp_path / "ae.keras"
    zoo.save(zoo.build("dense_autoencoder_toy"), path)
    for call in (zoo.load, zoo.inspect):
        with pytest.raises(ValueError, match=r"`sha256` must be a SHA-256 hex digest \(64 "
                           r"hexadecimal digits\)\. Received: sha256=") as error:
            call(path, sha256=sha256)
        assert type(error.value) is ValueError  # not "changed or corrupted"
        assert "corrupted" not in str(error.value)
        if isinstance(sha256, str):
            assert f"Received: sha256='{sha256}'" in str(error.value)


def _hash_file(kind, sidecar):
    if kind == "empty":
        sidecar.write_text("")
    elif kind == "blank":
        sidecar.write_text(" \n\t\n")
    elif kind == "directory":
        sidecar.mkdir()
    elif kind == "malformed":
        sidecar.write_text("not-a-digest  ae.keras\n")
    elif kind == "binary":
        sidecar.write_bytes(b"\xff\x00\x1b[2J" * 4)
    elif kind == "huge":
        sidecar.write_text("0" * 64 + " " * 5000)
    elif kind == "fifo":
        os.mkfifo(sidecar)
    elif kind == "dangling link":
        sidecar.symlink_to(sidecar.with_name("nowhere"))


@pytest.mark.parametrize("kind, match", [
    ("empty", "is empty"), ("blank", "is empty"), ("directory", "is a directory"),
    ("malformed", r"does not start with a SHA-256 hex digest .*Received: 'not-a-digest'"),
    ("binary", r"does not start with a SHA-256.*Received: '\\xff\\x00\\x1b\[2J"),
    ("huge", "over the limit of 4096 bytes"), ("fifo", "is a FIFO"),
    ("dangling link", "is a link to nothing"),
])
def test_a_bad_hash_file_is_refused_naming_it(tmp_path, kind, match):
    path = tmp_path / "ae.keras"
    zoo.save(zoo.build("dense_autoencoder_toy"), path)
    sidecar = tmp_path / "ae.keras.sha256"
    sidecar.unlink()
    _hash_file(kind, sidecar)
    with pytest.raises(zoo.UnsafeModelError, match=f"hash file '.*ae.keras.sha256'.*{match}"):
        zoo.load(path)
    report = zoo.inspect(path)
    assert report["verdict"] == "refused" and "ae.keras.sha256" in report["reason"]
    assert zoo.load(path, sha256=report["sha256"]).zoo_name  # an argument overrides the file


# ------------------------------------------------------------------ save order

def _weights(model):
    return [np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights]


def _same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def test_every_interruption_of_an_overwrite_leaves_a_loadable_file(tmp_path, monkeypatch):
    """Ctrl-C at each file-system step of ``save(..., overwrite=True)``: what is
    left loads, and it is the old model or the new one."""
    old, new = zoo.build("dense_autoencoder_toy"), zoo.build("dense_autoencoder_toy")
    new.set_weights([w + 1.0 for w in new.get_weights()])
    path = tmp_path / "ae.keras"
    real = {name: getattr(os, name) for name in ("replace", "link", "unlink", "fsync", "rename")}
    outcomes = []
    for step in range(1, 40):
        zoo.save(old, path, overwrite=True)
        calls = []

        def interrupt_at(name, step=step, calls=calls):
            def call(*args, **kwargs):
                calls.append(name)
                if len(calls) == step:
                    raise KeyboardInterrupt(f"at {name}, call {step}")
                return real[name](*args, **kwargs)
            return call

        for name in real:
            monkeypatch.setattr(os, name, interrupt_at(name))
        try:
            zoo.save(new, path, overwrite=True)
            finished = True
        except KeyboardInterrupt:
            finished = False
        finally:
            for name, function in real.items():
                monkeypatch.setattr(os, name, function)
        loaded = zoo.load(path)  # whatever was interrupted, the file loads
        which = ("new" if _same_weights(loaded, new)
                 else "old" if _same_weights(loaded, old) else None)
        interrupted = calls[step - 1] if len(calls) >= step else None
        assert which, f"interrupted at {interrupted} (call {step}): neither model"
        outcomes.append((interrupted, which))
        if finished:
            assert which == "new"
            break
    else:
        raise AssertionError("the save never finished")
    assert len(outcomes) >= 4 and {"old", "new"} == {which for _, which in outcomes}, outcomes
    assert zoo.inspect(path)["hash_check"] == "match"


def test_a_killed_save_leaves_partials_the_next_save_removes(tmp_path):
    path = tmp_path / "ae.keras"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is free now
    stale = [tmp_path / f".ae.keras.{dead.pid}.0123abcd.partial.keras",
             tmp_path / f".ae.keras.sha256.{dead.pid}.0123abcd.partial"]
    alive = [tmp_path / f".ae.keras.{os.getpid()}.0123abcd.partial.keras",
             tmp_path / f".ae.keras.{os.getppid()}.0123abcd.partial.keras"]
    other = [tmp_path / f".other.keras.{dead.pid}.0123abcd.partial.keras",
             tmp_path / "notes.txt"]
    for leftover in stale + alive + other:
        leftover.write_bytes(b"half a file")
    zoo.save(zoo.build("dense_autoencoder_toy"), path)
    assert not any(p.exists() for p in stale), "a dead process's partial file was kept"
    assert all(p.exists() for p in alive + other), "a live process's (or another) file was removed"
    assert zoo.load(path).zoo_name == "dense_autoencoder_toy"


def test_save_temporaries_are_named_with_the_pid(tmp_path, monkeypatch):
    seen = []
    real_publish = zoo.files.publish

    def spy(temp, path, overwrite=False):
        seen.append(pathlib.Path(temp).name)
        return real_publish(temp, path, overwrite)

    monkeypatch.setattr(zoo.files, "publish", spy)
    zoo.save(zoo.build("dense_autoencoder_toy"), tmp_path / "ae.keras")
    assert seen[0].startswith(f".ae.keras.{os.getpid()}.") and seen[0].endswith(".partial.keras")


def test_save_refuses_a_directory_before_any_work(tmp_path):
    (tmp_path / "ae.keras").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        zoo.save(zoo.build("dense_autoencoder_toy"), tmp_path / "ae.keras", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae.keras"]


# ------------------------------------------------------------------ jit_compile

def _auto_jit():
    """What "auto" means on this backend, for a model every backend can compile."""
    probe = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    probe.compile(optimizer="adam", loss="mse", jit_compile="auto")
    return probe.jit_compile


@pytest.mark.parametrize("asked", ["auto", False])
def test_jit_compile_is_what_the_zoo_model_asked_for_on_this_backend(tmp_path, asked):
    """A file records what "auto" resolved to where it was saved (True on JAX);
    loaded here it is resolved again, or kept as the model's config asks."""
    model = zoo.build("dense_autoencoder_toy", jit_compile=asked)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)  # as JAX resolves "auto"
    assert model.zoo_config["jit_compile"] == asked
    zoo.save(model, tmp_path / "ae.keras")
    with zipfile.ZipFile(tmp_path / "ae.keras") as archive:
        assert json.loads(archive.read("config.json"))["compile_config"]["jit_compile"] is True
    loaded = zoo.load(tmp_path / "ae.keras")
    expected = _auto_jit() if asked == "auto" else asked
    assert loaded.jit_compile is expected
    if BACKEND == "torch":
        assert loaded.jit_compile is False  # "auto" means eager on torch


@pytest.mark.parametrize("hyperparameters, expected",
                         [(None, "auto"), ({"jit_compile": False}, False)])
def test_jit_compile_of_a_plain_model(tmp_path, hyperparameters, expected):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    zoo.save(model, tmp_path / "plain.keras", metadata={"hyperparameters": hyperparameters})
    loaded = zoo.load(tmp_path / "plain.keras")
    assert loaded.jit_compile is (_auto_jit() if expected == "auto" else expected)
    assert zoo.load(tmp_path / "plain.keras", compile=False).compiled is False


def test_a_model_with_a_compiled_sub_model_loads(tmp_path):
    """Keras records a nested model's compile config too; optimizers cannot be
    made while the budget defers variables, so nested models load uncompiled."""
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="inner")
    inner.compile(optimizer="adam", loss="mse")
    outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1)])
    outer.compile(optimizer="sgd", loss="mae")
    zoo.save(outer, tmp_path / "nested.keras")
    with zipfile.ZipFile(tmp_path / "nested.keras") as archive:
        assert "compile_config" in json.dumps(json.loads(archive.read("config.json"))
                                              ["config"]["layers"][1])
    loaded = zoo.load(tmp_path / "nested.keras")
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.SGD)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)),
                               keras.ops.convert_to_numpy(outer(x)), atol=1e-6)
