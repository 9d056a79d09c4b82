"""The tuner-targets benchmark (``benchmarks/tuner_targets.py``) at toy size: the
Pareto table, the time-budget timeline and the pruning comparison add up."""

import json
import math
import os

import pytest

from benchmarks import tuner_targets


def test_epoch_events_are_grouped_per_training_run():
    events = [("train_begin", None, 10.0), ("epoch_begin", 0, 10.5), ("epoch_end", 0, 11.0),
              ("epoch_begin", 1, 11.0), ("epoch_end", 1, 12.5),
              ("train_begin", None, 13.0), ("epoch_begin", 0, 13.0), ("epoch_end", 0, 14.0)]
    runs = tuner_targets.trainings(events, origin=10.0)
    assert [run["start_s"] for run in runs] == [0.0, 3.0]
    assert runs[0]["epochs"] == [(0.5, 1.0), (1.0, 2.5)] and runs[1]["epochs"] == [(3.0, 4.0)]


def test_pruning_comparison_checks_both_targets():
    base = {"seed": 0, "epochs_trained": 200, "best_val_loss": 0.02}
    pruned = {"pruning": "1:3", "epochs_trained": 120, "best_val_loss": 0.0205, "pruned": [1]}
    row = tuner_targets.compare(base, pruned)
    assert row["saving"] == 0.4 and row["best_relative_diff"] == 0.025 and row["met"]
    row = tuner_targets.compare(base, {**pruned, "epochs_trained": 150})
    assert row["saving"] == 0.25 and not row["met_saving"] and not row["met"]
    row = tuner_targets.compare(base, {**pruned, "best_val_loss": 0.022})
    assert row["met_saving"] and not row["met_best"] and not row["met"]


@pytest.fixture()
def _environment(monkeypatch):
    # The script sets process-wide variables (benchmarks.run.configure): keep them here.
    monkeypatch.setattr(os, "environ", os.environ.copy())


def test_every_target_runs_at_toy_size(tmp_path, _environment):
    out = tmp_path / "tuner_targets"
    tuner_targets.main(["all", "--toy", "--trials", "2", "--threads", "0",
                        "--quiet", "--out", str(out)])
    report = json.loads(out.with_suffix(".json").read_text())
    markdown = out.with_suffix(".md").read_text()
    settings = report["settings"]
    assert settings["toy"] and settings["trials"] == 2 and settings["epochs"] == 3
    assert settings["train"] == 64 and settings["validation"] == 32
    assert settings["pruning"] == ["1:1"] and settings["seeds"] == [0]

    pareto = report["pareto"]
    assert len(pareto["trials"]) == 2
    on_front = [row["trial_id"] for row in pareto["trials"] if row["pareto"]]
    assert on_front and sorted(on_front) == sorted(pareto["pareto_front"])
    for row in pareto["trials"]:
        assert row["status"] == "COMPLETED" and row["epochs"] == 3
        assert row["values"]["val_loss"] > 0 and row["values"]["latency_ms"] > 0
    assert pareto["epochs_trained"] == pareto["epochs_timed"] == 6
    assert (tmp_path / "tuner_pareto.png").stat().st_size > 0
    assert pareto["plot"].endswith("tuner_pareto.png")
    assert "## Pareto front" in markdown and "![Pareto front](tuner_pareto.png)" in markdown

    [budget] = report["budget"]
    # The budget keeps the longest trial setup in hand, so it may stop a little early.
    assert budget["stopped_by_time"] and budget["max_time_s"] == 2.0 and budget["seed"] == 0
    assert math.isclose(budget["margin_s"], budget["wall_s"] - 2.0 - budget["longest_epoch_s"],
                        abs_tol=2e-3)
    assert budget["met"] == (budget["wall_s"] <= 2.0 + budget["longest_epoch_s"])
    assert budget["trials_started"] >= 1 and budget["trials_started"] <= budget["trials_in_result"]
    assert sum(budget["statuses"].values()) == budget["trials_in_result"]
    assert budget["epochs_trained"] == budget["epochs_timed"] >= 1
    assert budget["last_epoch_end_s"] + budget["after_last_epoch_s"] == pytest.approx(
        budget["wall_s"], abs=2e-3)
    stopped = budget["stopped_trial"]
    if stopped is not None:  # the budget may also run out between two trials
        assert budget["statuses"]["STOPPED"] == 1
        assert stopped["epochs"] == stopped["stopped_epoch"] < stopped["epochs_planned"] == 3
        assert stopped["last_epoch_end_s"] == budget["last_epoch_end_s"]
    assert "## Time budget" in markdown

    runs = report["pruning"]["runs"]
    assert [(run["seed"], run["pruning"]) for run in runs] == [(0, "none"), (0, "1:1")]
    for run in runs:
        assert run["trials"] == 2 and len(run["curves"]) == 2
        assert run["epochs_trained"] == run["epochs_timed"] == sum(run["curves"].values())
        assert all(1 <= epochs <= 3 for epochs in run["curves"].values())
        for pruned in run["pruned"]:
            assert pruned["epochs"] == pruned["stopped_epoch"] < 3
            assert run["curves"][pruned["trial_id"]] == pruned["epochs"]
        assert run["best_trial_id"] not in [pruned["trial_id"] for pruned in run["pruned"]]
    assert runs[0]["pruned"] == [] and runs[0]["epochs_trained"] == 6
    # Seeded training: both searches train the same trials the same way until one is pruned.
    for trial_id, values in runs[1]["curve_values"].items():
        assert values == pytest.approx(runs[0]["curve_values"][trial_id][:len(values)],
                                       rel=1e-3)
    [comparison] = report["pruning"]["comparisons"]
    assert comparison["epochs_without"] == 6
    assert comparison["epochs_with"] == runs[1]["epochs_trained"]
    assert comparison["pruned_trials"] == len(runs[1]["pruned"])
    assert comparison["saving"] == pytest.approx(1 - runs[1]["epochs_trained"] / 6, abs=1e-4)
    assert comparison["met"] == (comparison["met_saving"] and comparison["met_best"])
    assert "## Median pruning" in markdown and "| 0 | 1:1 | 6 |" in markdown
