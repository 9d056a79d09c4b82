"""`zoo compare`: the same data and budget for every candidate, one row each."""

import json

import keras
import pytest

from applications import cli, compare

def test_compare_command_gives_each_model_the_same_budget_and_one_table(tmp_path, capsys):
    out = tmp_path / "rows.json"
    # A 1 ms budget stops each model at its first batch end, in epoch 1 of 3.
    assert cli.main(["compare", "dense_autoencoder", "sparse_autoencoder", "--task",
                     "reconstruction", "--epochs", "3", "--budget-seconds", "0.001",
                     "--limit", "32", "--batch-size", "16", "--quiet",
                     "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    backend = keras.backend.backend()
    assert [row["model"] for row in rows] == ["dense_autoencoder", "sparse_autoencoder"]
    for row in rows:
        assert row["backend"] == backend and row["metric"] == "mse"
        assert row["higher_is_better"] is False and row["epochs"] == 3
        assert row["stopped_by_budget"] and row["epochs_run"] == 1
        assert row["params"] > 0 and row["train_seconds"] > 0 and row["latency_ms"] > 0
        assert row["value"] == row["scores"]["mse"]
    assert sum(row["best"] for row in rows) >= 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("zoo compare: task reconstruction on ")
    assert "(3 epochs, at most 0.001 s of training each)" in printed[0]
    assert printed[0].endswith(f"- backend: {backend}")
    assert "mse (lower is better)" in printed[1]
    assert [line.split()[0] for line in printed[3:5]] == ["dense_autoencoder",
                                                          "sparse_autoencoder"]
    assert all(" 1* " in line for line in printed[3:5])
    assert printed[-1] == "* stopped by the wall-clock budget"


@pytest.mark.parametrize("models, task, kwargs, error, match", [
    (["lstm_clasifier"], "sentiment", {}, ValueError, "Did you mean 'lstm_classifier'"),
    (["lstm_classifier", "conv_autoencoder"], "sentiment", {}, ValueError,
     "Compatible models: .*Received: model='conv_autoencoder'"),
    (["lstm_classifier"], "sentimental", {}, ValueError, "Unknown task 'sentimental'"),
    ([], "sentiment", {}, ValueError, r"Received: models=\[\]"),
    ("lstm_classifier", "sentiment", {}, ValueError, "non-empty list"),
    (["lstm_classifier", "lstm_classifier"], "sentiment", {}, ValueError, "duplicates"),
    (["lstm_classifier"], "sentiment", {"epochs": 0}, ValueError, "Received: epochs=0"),
    (["lstm_classifier"], "sentiment", {"budget_seconds": -1}, ValueError,
     "Received: budget_seconds=-1"),
    (["lstm_classifier"], "sentiment", {"budget_seconds": float("inf")}, ValueError,
     "finite number > 0. Received: budget_seconds=inf"),
    (["lstm_classifier"], "sentiment", {"dataset": "nope"}, ValueError, "no dataset 'nope'"),
    (["lstm_classifier"], "sentiment", {"overrides": {"gru_classifier": {}}}, ValueError,
     "not compared"),
    (["lstm_classifier"], "sentiment", {"overrides": {"lstm_classifier": {"unitz": 3}}},
     TypeError, "did you mean 'units'"),
])
def test_bad_input_is_refused_before_any_training(models, task, kwargs, error, match):
    with pytest.raises(error, match=match):
        compare.compare(models, task, **kwargs)


def test_table_marks_the_best_by_the_metric_direction():
    rows = [{"model": name, "family": "classifier", "task": "sentiment", "dataset": "d",
             "metric": "accuracy", "value": value, "higher_is_better": True, "params": 1000,
             "train_seconds": 1.0, "epochs": 3, "epochs_run": 3, "stopped_by_budget": False,
             "latency_ms": 0.5, "latency_batch": 1} for name, value in (("a", 0.7), ("b", 0.9))]
    compare.mark_best(rows)
    assert [row["best"] for row in rows] == [False, True]
    table = compare.format_table(rows, "jax")
    assert table.splitlines()[0] == "zoo compare: task sentiment on d (3 epochs) - backend: jax"
    assert "b <- best" in table and "a <- best" not in table
    with pytest.raises(ValueError, match="rows"):
        compare.format_table([], "jax")
