"""`zoo tune --task`: a keras-tuner search on an application task's data (the applications
supply the data; the tuner does not import them)."""

import json

import keras

import zoo
from applications import cli

# Compiled steps cost seconds to trace on TensorFlow/JAX for a one-step trial.
JIT = keras.backend.backend() == "jax"


def test_zoo_tune_runs_on_an_application_task(tmp_path, capsys):
    status = cli.main(["tune", "lstm_seq2seq", "--task", "reversal", "--limit", "64",
                       "--max-trials", "1", "--epochs", "1", "--directory", str(tmp_path),
                       "--quiet", "--hp", "embedding_dim=4", "--hp", "latent_dim=8",
                       "--hp", "num_layers=1", "--hp", "dropout=0.0",
                       "--set", f"jit_compile={json.dumps(JIT)}"])
    assert status == 0
    assert "best model:" in capsys.readouterr().out
    card = zoo.read_card(tmp_path / "lstm_seq2seq" / "best_model.keras")
    assert card["dataset"].startswith("task reversal")
    config = card["zoo_config"]
    assert config["latent_dim"] == 8  # the user's edit
    # The data fixes the vocabulary; the reversal alphabet is 10 digits + pad/start/end.
    assert config["source_vocab_size"] == config["target_vocab_size"] == 13
