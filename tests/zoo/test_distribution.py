"""zoo.distribute: data-parallel training equals one-device training, on simulated devices.

JAX gets four host devices (``XLA_FLAGS``) and TensorFlow two logical CPU
devices; both must be set before the backend starts, so every comparison
runs ``distribution_worker.py`` in a subprocess (on the backend under test).
"""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from tests.harness import assert_error_ends_with_received
from zoo.distribution import TORCH_REFUSAL, Distribution

WORKER = pathlib.Path(__file__).with_name("distribution_worker.py")
BACKEND = keras.backend.backend()
DEVICES = {"jax": 4, "tensorflow": 2}
#: One or more models of every family; recurrent ones get the looser tolerance.
MODELS = ["dense_autoencoder", "vae", "lstm_classifier", "transformer_classifier",
          "cnn2d_classifier", "lstm_seq2seq", "gpt_decoder", "gcn", "gat_graph_classifier"]
RECURRENT = {"lstm_classifier", "lstm_seq2seq"}
#: A replica draws its own noise for its part of the batch under TensorFlow's strategy
#: (JAX draws over the global batch), so the VAE is only checked to train there.
NOISY = {"tensorflow": {"vae"}}


def run_worker(models, devices, batch=8, steps=3):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, str(WORKER), "--backend", BACKEND, "--devices", str(devices),
         "--models", ",".join(models), "--batch", str(batch), "--steps", str(steps)],
        capture_output=True, text=True, env=env, timeout=600)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done, rows


def test_data_parallel_weights_equal_one_device_weights_for_every_family():
    if BACKEND == "torch":  # refused in one line, before any model is built
        done, rows = run_worker(MODELS, 2)
        assert done.returncode != 0 and not rows
        assert done.stderr.strip().splitlines()[-1].endswith(
            "ValueError: " + TORCH_REFUSAL)
        return
    done, rows = run_worker(MODELS, DEVICES[BACKEND])
    assert done.returncode == 0, done.stderr[-3000:]
    assert [row["model"] for row in rows] == MODELS
    assert {row["family"] for row in rows} == set(zoo.FAMILIES)
    for row in rows:
        assert row["replicas"] == DEVICES[BACKEND]
        assert row["moved"] > 1e-4, row  # the weights trained
        assert np.all(np.isfinite(row["loss_split"])), row
        if row["model"] in NOISY.get(BACKEND, ()):
            np.testing.assert_allclose(row["loss_split"], row["loss_single"], rtol=0.1)
            continue
        tolerance = 1e-4 if row["model"] in RECURRENT else 1e-5
        assert row["max_weight_diff"] <= tolerance, row
        np.testing.assert_allclose(row["loss_split"], row["loss_single"], rtol=1e-5)


def test_a_batch_that_does_not_split_across_the_devices_is_refused():
    if BACKEND == "torch":
        strategy = Distribution("data_parallel", "jax", ["cpu:0", "cpu:1"], engine=None)
        with pytest.raises(ValueError, match="multiple of 2"):
            strategy.check_batch_size(3)
        return
    done, _ = run_worker(["dense_autoencoder"], DEVICES[BACKEND], batch=DEVICES[BACKEND] + 1)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "must be a positive multiple of" in last
    assert last.endswith(f"Received: batch_size={DEVICES[BACKEND] + 1}")


def test_batch_size_check_names_the_device_count():
    strategy = Distribution("data_parallel", BACKEND, ["a", "b", "c", "d"], engine=None)
    assert strategy.check_batch_size(8) == 8
    for bad in (6, 0, -4, 2.0, True):
        with pytest.raises(ValueError, match="multiple of 4") as caught:
            strategy.check_batch_size(bad)
        assert_error_ends_with_received(caught.value)


def test_unknown_strategy_and_device_counts_are_refused():
    with pytest.raises(ValueError, match="offers: data_parallel") as caught:
        zoo.distribute("model_parallel")
    assert_error_ends_with_received(caught.value)
    if BACKEND == "torch":
        return
    with pytest.raises(ValueError, match="between 1 and") as caught:
        zoo.distribute("data_parallel", devices=10_000)
    assert_error_ends_with_received(caught.value)


def test_one_device_distribution_trains_and_restores_the_previous_state():
    if BACKEND == "torch":
        with pytest.raises(ValueError, match="torchrun") as caught:
            zoo.distribute("data_parallel", devices=1)
        assert "KERAS_BACKEND=jax or tensorflow" in str(caught.value)
        assert str(caught.value).endswith("Received: backend='torch'")
        return
    strategy = zoo.distribute("data_parallel", devices=1)
    assert strategy.num_replicas == 1
    spec = zoo.get_spec("dense_autoencoder")
    with strategy:
        model = zoo.build("dense_autoencoder", size="toy")
        x, y = spec.example_data(model.zoo_config, 8, 0)
        history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    if BACKEND == "jax":
        assert keras.distribution.distribution() is None
