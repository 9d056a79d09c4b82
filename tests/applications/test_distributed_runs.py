"""`--distribute data_parallel` and `--sample` on the `zoo` command, as a user runs them.

Several devices exist only where the backend starts with them, so the runs on
four simulated JAX devices start `zoo` in a subprocess; the checks that need
no devices run in this process, on the backend under test.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from applications import cli
from tuner.searcher import search
from zoo.distribution import Distribution

BACKEND = keras.backend.backend()


def zoo_command(args, devices=4):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
           "JAX_PLATFORMS": "cpu"}
    return subprocess.run([sys.executable, "-m", "applications", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_distributed_run_and_search_on_this_backend(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "sentiment", "--model", "cnn1d_classifier", "--limit", "200", "--epochs",
            "1", "--distribute", "data_parallel", "--out", str(out), "--quiet"]
    search_args = ["tune", "dense_autoencoder", "--toy", "--max-trials", "1", "--epochs", "1",
                   "--distribute", "data_parallel", "--directory", str(tmp_path / "search"),
                   "--quiet"]
    if BACKEND == "torch":
        assert cli.main(args) == 2
        assert capsys.readouterr().err.strip().endswith("Received: backend='torch'")
        assert not out.exists()
        return
    if BACKEND == "jax":
        # Four simulated devices: the count is fixed before JAX starts, hence a process.
        done, tuned = zoo_command(args), zoo_command(search_args)
        assert done.returncode == 0, done.stderr[-2000:]
        assert tuned.returncode == 0, tuned.stderr[-2000:]
        assert "best model:" in tuned.stdout
        # Sampled node classification: each step's seeds in one subgraph per device.
        sampled = zoo_command(["run", "node_classification", "--sample", "5,5", "--epochs",
                               "2", "--distribute", "data_parallel", "--out",
                               str(tmp_path / "graph"), "--quiet"])
        assert sampled.returncode == 0, sampled.stderr[-2000:]
        graph = json.loads((tmp_path / "graph" / "metrics.json").read_text())
        assert graph["sampling"] == {"fanouts": [5, 5], "evaluation": "full", "parts": 4}
        assert graph["distribution"]["replicas"] == 4
        devices = ["cpu:0", "cpu:1", "cpu:2", "cpu:3"]
    else:  # TensorFlow's MirroredStrategy over the one CPU device
        assert cli.main(args) == 0 and cli.main(search_args) == 0
        devices = [device.name for device in
                   __import__("tensorflow").config.list_logical_devices("CPU")]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["distribution"]["devices"] == devices
    assert metrics["distribution"]["replicas"] == len(devices)
    assert "val_loss" in metrics["history"]  # validation still reported


def test_batches_that_cannot_split_are_refused_before_the_run(tmp_path, capsys, monkeypatch):
    four = Distribution("data_parallel", BACKEND, ["d0", "d1", "d2", "d3"], engine=None)
    monkeypatch.setattr(zoo, "distribute", lambda strategy, devices=None: four)
    assert cli.main(["run", "sentiment", "--batch-size", "30", "--distribute",
                     "data_parallel", "--out", str(tmp_path / "odd")]) == 2
    error = capsys.readouterr().err.strip()
    assert "multiple of 4" in error and error.endswith("Received: batch_size=30")
    assert cli.main(["run", "node_classification", "--distribute", "data_parallel",
                     "--out", str(tmp_path / "graph")]) == 2
    assert "--sample 15,10" in capsys.readouterr().err
    assert not (tmp_path / "odd").exists() and not (tmp_path / "graph").exists()


def test_bad_distribute_and_sample_options_exit_2_before_any_work(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", "sentiment", "--distribute", "model_parallel",
                     "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("Received: strategy='model_parallel'")
    for fanouts in ("15,0", "a,b", "-1", ""):
        assert cli.main(["run", "node_classification", "--sample", fanouts,
                         "--out", str(out)]) == 2
        assert f"Received: sample={fanouts!r}" in capsys.readouterr().err
    assert cli.main(["run", "sentiment", "--sample", "15,10", "--out", str(out)]) == 2
    assert "for node_classification" in capsys.readouterr().err
    assert cli.main(["run", "node_classification", "--sample-eval", "sampled",
                     "--out", str(out)]) == 2
    assert "give --sample too" in capsys.readouterr().err
    assert cli.main(["compare", "lstm_classifier", "--task", "sentiment", "--distribute",
                     "ring"]) == 2
    assert "Received: strategy='ring'" in capsys.readouterr().err
    assert not out.exists()


def test_distributed_search_on_this_backend(tmp_path):
    x = np.random.default_rng(0).random((40, 6)).astype("float32")
    arguments = dict(max_trials=1, epochs=1, hyperparameters={"code_size": 2},
                     overrides={"input_dim": 6}, directory=tmp_path, batch_size=8,
                     distribute="data_parallel")
    if BACKEND == "torch":
        with pytest.raises(ValueError, match="torchrun"):
            search("dense_autoencoder", (x, x), (x, x), **arguments)
        return
    result = search("dense_autoencoder", (x[:36], x[:36]), (x[36:], x[36:]), **arguments)
    assert np.isfinite(result.best_score)
    assert zoo.load(result.best_model_path).zoo_config["code_size"] == 2
