"""benchmarks/vae_likelihood.py at toy size: the report's structure and the bound's order."""

import json
import os

import pytest

from benchmarks import vae_likelihood


@pytest.fixture()
def _environment(monkeypatch):
    # The script sets process-wide variables (benchmarks.run.configure): keep them here.
    monkeypatch.setattr(os, "environ", os.environ.copy())


def test_toy_run_reports_every_k_and_the_bound_rises(tmp_path, _environment):
    out = tmp_path / "vae_likelihood"
    vae_likelihood.main(["--toy", "--epochs", "3", "--batch-size", "32", "--code-size", "2",
                         "--hidden", "8", "--samples", "50", "1", "--test", "40", "--quiet",
                         "--out", str(out)])
    report = json.loads(out.with_suffix(".json").read_text())
    settings = report["settings"]
    assert settings["toy"] and settings["samples"] == [1, 50]
    assert settings["train"] == 256 and settings["test"] == 40
    assert [row["samples"] for row in report["rows"]] == [1, 50]
    one, many = (row["mean_nats"] for row in report["rows"])
    # 16 binary pixels: log p(x) < 0 nats, and -40 is far below a coin flip per pixel (-11.1).
    assert -40 < one < 0 and -40 < many < 0
    assert many > one  # more samples, a tighter (higher) bound
    assert report["params"] > 0 and report["final_loss"] > 0
    assert "| 50 |" in out.with_suffix(".md").read_text()


def test_missing_data_is_named(tmp_path, _environment):
    with pytest.raises(FileNotFoundError, match=r"No Fashion-MNIST train images.*"
                                                r"Received: --data-root="):
        vae_likelihood.main(["--data-root", str(tmp_path), "--quiet",
                             "--out", str(tmp_path / "x")])
