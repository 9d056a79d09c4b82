"""The applications read a model's declared capabilities and sizes, never its name.

A copy of a builder registered under another function name and another
registry name is offered by the tasks its capabilities fit, and trains,
scores and saves end to end exactly like the original.
"""

import json

import numpy as np
import pytest

import zoo
from applications import tasks
from tests.harness import register_renamed_copy

# task -> registry entry whose builder is copied (one per declared ability the tasks read)
CASES = {"reconstruction": "dense_autoencoder", "generation": "vae",
         "denoising": "denoising_autoencoder", "reversal": "gru_seq2seq",
         "text_generation": "gpt_decoder"}


@pytest.fixture(scope="module")
def renamed():
    names = {task: f"renamed_{original}" for task, original in CASES.items()}
    for task, name in names.items():
        register_renamed_copy(CASES[task], name)
    yield names
    for name in names.values():
        zoo.unregister_model(name)


@pytest.mark.parametrize("task_name", sorted(CASES))
def test_a_renamed_copy_is_offered_and_runs_like_the_original(renamed, task_name, tmp_path):
    name = renamed[task_name]
    task = tasks.get_task(task_name)
    assert name in task.compatible_models()
    assert task.check_model(name) is zoo.get_spec(name)
    runs = {}
    for model in (CASES[task_name], name):
        runs[model] = tasks.run_task(task_name, model=model, epochs=1, limit=96, seed=3,
                                     out=tmp_path / model, verbose=0)
        assert (tmp_path / model / "model.keras").exists()
        card = zoo.read_card(tmp_path / model / "model.keras")
        assert card["zoo_name"] == model
    original, copy = runs[CASES[task_name]], runs[name]
    assert copy["metric"] == original["metric"]
    # Same data, seed, sizes and initial weights: the same score.
    np.testing.assert_allclose(copy["test"][copy["metric"]],
                               original["test"][original["metric"]], rtol=1e-4, atol=1e-5)
    assert json.loads((tmp_path / name / "metrics.json").read_text())["model"] == name
