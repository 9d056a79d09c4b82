"""The results table's command (``python -m benchmarks.quality``): the recipe file is
valid, rows are selected, measured lines replace old ones, thresholds are checked."""

import csv

import pytest

import zoo
from applications import tasks
from benchmarks import quality
from zoo.registry import resolve_params


def test_every_recipe_names_a_model_task_and_parameters_that_exist():
    rows = quality.load_recipes()
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        task = tasks.get_task(row["task"])
        task.check_model(row["model"])
        params = {key: tuple(value) if isinstance(value, list) else value
                  for key, value in (row.get("params") or {}).items()}
        resolve_params(row["model"], params)  # TypeError on a parameter the model lacks
        assert row["metric"] and row["seeds"] >= 1 and row["epochs"] >= 1
        assert task.file_formats, row["id"]
    fast = {row["id"] for row in quality.select(rows, fast=True)}
    assert {"cora-gcn", "cora-gat"} <= fast
    assert all(row.get("threshold") is not None for row in rows if row["id"] in fast)


def test_rows_are_selected_by_pattern_and_an_unknown_pattern_names_the_rows():
    rows = quality.load_recipes()
    assert {row["model"] for row in quality.select(rows, "cora-g?n")} == {"gcn", "gin"}
    with pytest.raises(ValueError, match="No recipe row matches 'nothing'.*cora-gcn"):
        quality.select(rows, "nothing")


def _line(recipe, model, value, backend="jax"):
    return {"model": model, "backend": backend, "metric": "accuracy", "value": value,
            "std": 0.01, "params": 10, "epochs": 3, "train_seconds": 1.0, "seeds": 2,
            "recipe": recipe}


def test_a_row_measured_again_replaces_its_line_and_keeps_the_others(tmp_path):
    path = tmp_path / "cora.csv"
    quality.write_lines(path, [_line("cora-gcn", "gcn", 0.8), _line("cora-gat", "gat", 0.82)])
    quality.write_lines(path, [_line("cora-gcn", "gcn", 0.81)])
    with open(path, newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(line["model"], line["value"]) for line in lines] == [("gat", "0.82"),
                                                                   ("gcn", "0.81")]
    text = quality.summary(quality.load_recipes(), tmp_path)
    assert "| cora-gcn | gcn | jax | accuracy | 0.81 |" in text
    assert "0.815 (GCN, Kipf & Welling 2017)" in text
    assert (tmp_path / "README.md").read_text() == text


def test_thresholds_know_which_way_is_better():
    row = {"model": "gcn", "metric": "accuracy", "threshold": 0.815}
    assert quality.below_threshold(row, [_line("r", "gcn", 0.81)])
    assert not quality.below_threshold(row, [_line("r", "gcn", 0.82)])
    mse = {"model": "ae", "metric": "mse", "threshold": 0.02}
    assert quality.below_threshold(mse, [{**_line("r", "ae", 0.03), "metric": "mse"}])
    assert not quality.below_threshold({"model": "gcn", "metric": "accuracy"},
                                       [_line("r", "gcn", 0.0)])


def test_a_row_trains_on_a_users_files_and_writes_its_csv(tmp_path):
    folder = tmp_path / "data" / "graph"
    folder.mkdir(parents=True)
    nodes = ["id,label,f"] + [f"{i},{i % 2},{i % 2}" for i in range(24)]
    (folder / "nodes.csv").write_text("\n".join(nodes) + "\n")
    (folder / "edges.csv").write_text("source,target\n" + "".join(
        f"{i},{(i + 2) % 24}\n" for i in range(24)))
    row = {"id": "toy-gcn", "dataset": "toy", "task": "node_classification", "model": "gcn",
           "data": "graph", "seeds": 2, "params": {"hidden_units": [4]}, "epochs": 1,
           "weight_decay": 0.01, "metric": "accuracy",
           "early_stopping": {"monitor": "val_loss", "patience": 1}}
    results = quality.run_row(row, tmp_path / "data", tmp_path / "out", log=lambda *a: None)
    assert results[0]["seeds"] == 2 and results[0]["recipe"] == "toy-gcn"
    assert results[0]["params"] == zoo.build("gcn", num_features=1, hidden_units=(4,)
                                             ).count_params()
    with open(tmp_path / "out" / "toy.csv", newline="") as handle:
        assert next(csv.reader(handle)) == list(quality.COLUMNS)
