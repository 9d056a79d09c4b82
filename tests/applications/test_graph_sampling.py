"""Neighbour-sampled node classification in the ``node_classification`` task: the
options (``sample``, ``sample_eval``, ``parts``), and sampled vs full-batch training of
the benchmark's GCN recipe on the real Cora graph (public Planetoid split)."""

import json
import pathlib
import re

import keras
import pytest

import zoo
from applications.tasks import base
from benchmarks import quality

RECIPES = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "recipes.json"


def load(folder, seed=0, batch_size=None, dataset="cora", **options):
    """The task's data with the sampling options set on the request (as ``Task.load``
    builds it)."""
    task = base.get_task("node_classification")
    spec = task.check_model("gcn")
    data = None if folder is None else str(folder)
    checked = task.check_options(data=data)
    request = base.LoadRequest(
        task=task, spec=spec, dataset=task.check_file_dataset(
            dataset if data else None, data), limit=None, seed=seed, data_dir=None,
        batch_size=batch_size or task.default_batch_size, download=False, data=data,
        options={**checked, "dataset": dataset if data else None, **options})
    return task.loader(request)


def test_sampling_options_pick_the_pipelines():
    full = load(None)
    assert "sampling" not in full.info and not isinstance(full.train, zoo.NeighborSampler)
    sampled = load(None, batch_size=8, sample=(5, 5), parts=2)
    assert isinstance(sampled.train, zoo.NeighborSampler)
    assert not isinstance(sampled.test, zoo.NeighborSampler)
    assert sampled.info["sampling"] == {"fanouts": [5, 5], "batch_size": 8, "parts": 2,
                                        "eval": "full"}
    # Through Task.load (the CLI's --sample 5,5 --parts 2) too.
    loaded = base.get_task("node_classification").load(sample=(5, 5), batch_size=8, parts=2)
    assert isinstance(loaded.train, zoo.NeighborSampler) and loaded.train.parts == 2
    both = load(None, batch_size=8, sample="5,5", sample_eval="sampled")
    assert isinstance(both.validation, zoo.NeighborSampler) and not both.validation.shuffle
    model = both.build("gcn")
    model.fit(both.train, validation_data=both.validation, epochs=1, verbose=0)
    assert 0.0 <= both.evaluate(model)["accuracy"] <= 1.0


@pytest.mark.parametrize("options, received", [
    ({"sample": (15, 0)}, "fanouts=(15, 0)"), ({"sample": ()}, "fanouts=()"),
    ({"sample": (5,), "sample_eval": "half"}, "sample_eval='half'"),
    ({"sample": (5,), "parts": 100}, "parts=100")])
def test_bad_sampling_options_are_named(options, received):
    with pytest.raises(ValueError, match=re.escape(f"Received: {received}")):
        load(None, **options)


def _train(folder, row, seed, sample=None, steps=200):
    """The benchmark's recipe for ``steps`` steps (no early stopping, to keep it fast)."""
    keras.utils.set_random_seed(seed)
    data = load(folder, seed=seed, sample=sample)
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in row["params"].items()}
    model = data.build(row["model"], learning_rate=row["learning_rate"], **params)
    quality.regularize(model, row["l2"]["value"], row["l2"]["layers"])
    # 10 full-graph steps per epoch there; one pass over the seeds here.
    per_epoch = 10 if sample is None else len(data.train)
    model.fit(data.train, epochs=-(-steps // per_epoch), verbose=0, shuffle=False)
    return data.evaluate(model)["accuracy"]


def test_sampled_training_matches_full_batch_on_cora(real_data):
    folder = real_data("planetoid")
    row = next(r for r in json.loads(RECIPES.read_text())["rows"] if r["id"] == "cora-gcn")
    full = _train(folder, row, seed=0)
    sampled = _train(folder, row, seed=0, sample=(25, 10))
    print(f"Cora GCN test accuracy: full batch {full:.3f}, sampled (25, 10) {sampled:.3f}")
    assert full > 0.75
    assert sampled >= full - 0.03
