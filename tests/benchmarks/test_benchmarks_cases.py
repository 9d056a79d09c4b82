"""The benchmark harness: equivalent models, well-formed JSON and Markdown, sane ratios."""

import json

import keras
import numpy as np
import pytest

import zoo
from zoo.constants import FAMILIES
from benchmarks import cases, handwritten_keras, handwritten_torch, report, run

LSTM_TORCH_EXTRA = {"classifier": 4 * 5, "seq2seq": 2 * 4 * 6}  # torch: b_ih and b_hh


def test_every_family_has_a_case_sized_by_the_registry():
    assert sorted(cases.CASES) == sorted(FAMILIES)
    for family, case in cases.CASES.items():
        spec = zoo.get_spec(case.model)
        assert spec.family == family
        assert case.build_params("full") == spec.size("bench")
        tiny = case.build_params("tiny")
        assert set(tiny) - {"dropout"} == set(spec.size("bench")) - {"dropout"}
        assert all(tiny[key] == spec.toy[key] for key in tiny if key in spec.toy)
        assert tiny.get("dropout", 0.0) == 0.0
        assert case.build_params("full").get("dropout", 0.0) == 0.0
    with pytest.raises(ValueError, match="Received: size='huge'"):
        cases.CASES["graph"].build_params("huge")


@pytest.mark.parametrize("family", FAMILIES)
def test_handwritten_models_are_the_zoo_architecture(family):
    import torch

    case = cases.get_case(family)
    params = case.build_params("tiny")
    built = zoo.build(case.model, **params)
    hand = handwritten_keras.build(family, case.handwritten_params("tiny"))
    assert hand.count_params() == built.count_params()
    x, y = cases.make_data(case, "tiny", 3, seed=1)
    spec = keras.tree.map_structure(lambda v: keras.KerasTensor(v.shape, str(v.dtype)), x)
    shape = tuple(built(spec).shape)
    assert tuple(hand(spec).shape) == shape
    if keras.backend.backend() != "jax":
        # Same weights, same numbers: the hand-written model is the same function.
        # (Checked on TensorFlow and torch; on JAX every predict compiles for seconds.)
        handwritten_keras.copy_weights(built, hand)
        np.testing.assert_allclose(np.asarray(hand.predict_on_batch(x)),
                                   np.asarray(built.predict_on_batch(x)), rtol=1e-4, atol=1e-5)

    module = handwritten_torch.build(family, case.handwritten_params("tiny"))
    assert handwritten_torch.count_params(module) == \
        built.count_params() + LSTM_TORCH_EXTRA.get(family, 0)
    inputs, target = handwritten_torch.to_tensors(family, x, y, "cpu")
    with torch.no_grad():
        out = module(*inputs)
    if family == "autoencoder":  # NCHW in torch
        shape = (shape[0], shape[3], shape[1], shape[2])
    assert tuple(out.shape) == shape
    assert np.isfinite(handwritten_torch.loss(family, out, target).item())


# Eager JAX (jit_compile=False) runs an LSTM step in seconds: time JAX compiled.
JIT = "true" if keras.backend.backend() == "jax" else "false"


def _tiny_args(tmp_path, *extra):
    return ["--size", "tiny", "--batch-size", "4", "--steps", "2", "--rounds", "2",
            "--warmup-steps", "1", "--latency-repeats", "1", "--jit", JIT,
            "--torch-compile", "no", "--threads", "0", "--quiet", "--out", str(tmp_path),
            *extra]


def test_harness_writes_json_and_markdown(tmp_path, capsys):
    backend = keras.backend.backend()
    assert run.main(_tiny_args(tmp_path, "--families", "graph")) == 0
    result = json.loads((tmp_path / f"{backend}.json").read_text())
    assert result["environment"]["backend"] == backend
    assert result["settings"]["jit_compile"] == [JIT == "true"]
    rows = result["rows"]
    assert [(r["family"], r["implementation"]) for r in rows] == [
        ("graph", "zoo"), ("graph", "keras"), ("graph", "torch eager")]
    for row in rows:
        assert row["error"] is None, row
        assert row["jit_compile"] is (JIT == "true" and row["framework"] == "keras")
        assert row["steps_timed"] == 2  # 2 rounds x (2 steps - the first of each chunk)
        assert row["train_samples_per_s"] == pytest.approx(4 / (row["train_step_ms"] / 1000),
                                                            rel=0.01)
        assert row["compile_s"] >= 0 and row["peak_memory_mb"] > 0
        assert set(row["latency_ms"]) == {"1"} and row["latency_ms"]["1"] > 0
    assert rows[0]["params"] == rows[1]["params"]

    markdown = (tmp_path / f"{backend}.md").read_text()
    assert f"Keras backend **{backend}**" in markdown
    assert markdown.count("| graph | gcn |") == 3
    assert "plain PyTorch under torch.compile" in markdown  # skipped, and says so
    assert markdown in capsys.readouterr().out

    merged = {"generated": "now", "backends": {backend: result},
              "summary": report.summarize({backend: result})}
    ratios = merged["summary"]["zoo_vs_keras"]
    assert [(r["family"], r["jit_compile"]) for r in ratios] == [("graph", JIT == "true")]
    rounds = rows[0]["round_step_ms"]
    assert sorted(rounds) == ["0", "1"] and sorted(rows[1]["round_step_ms"]) == ["0", "1"]
    paired = sorted(rows[1]["round_step_ms"][r] / rounds[r] for r in rounds)
    assert ratios[0]["ratio"] == pytest.approx(sum(paired) / 2, abs=1e-3)
    low, high = paired
    assert ratios[0]["ratio_quartiles"] == pytest.approx(
        [low + (high - low) / 4, high - (high - low) / 4], abs=1e-3)
    assert "### Zoo model / hand-written Keras" in report.merged_markdown(merged)


def test_mixed_precision_runs_on_cpu_and_restores_the_policy(tmp_path):
    backend = keras.backend.backend()
    args = _tiny_args(tmp_path, "--families", "graph", "--mixed-precision",
                      "mixed_bfloat16")
    assert run.main(args) == 0
    assert keras.mixed_precision.global_policy().name == "float32"
    result = json.loads((tmp_path / f"{backend}_mixed_bfloat16.json").read_text())
    assert [row["error"] for row in result["rows"]] == [None, None, None]
    assert "mixed_bfloat16" in (tmp_path / f"{backend}_mixed_bfloat16.md").read_text()


def _row(backend, family, implementation, samples, jit=False, framework="keras"):
    return {"family": family, "model": "m", "implementation": implementation,
            "framework": framework, "jit_compile": jit, "train_samples_per_s": samples,
            "error": None}


def test_summary_ratios():
    results = {
        "tensorflow": {"rows": [_row("tensorflow", "graph", "zoo", 90.0),
                                _row("tensorflow", "graph", "keras", 100.0),
                                _row("tensorflow", "graph", "zoo", 300.0, jit=True),
                                _row("tensorflow", "graph", "keras", 250.0, jit=True),
                                _row("tensorflow", "graph", "torch eager", 400.0,
                                     framework="torch")]},
        "jax": {"rows": [_row("jax", "graph", "zoo", 200.0, jit=True),
                         _row("jax", "graph", "keras", 200.0, jit=True),
                         _row("jax", "graph", "torch eager", 100.0, framework="torch")]},
    }
    summary = report.summarize(results)
    assert [(r["backend"], r["jit_compile"], r["ratio"]) for r in summary["zoo_vs_keras"]] == [
        ("tensorflow", False, 0.9), ("tensorflow", True, 1.2), ("jax", True, 1.0)]
    (fastest,) = summary["keras_vs_torch"]
    # Each backend against the torch run in its own process: TF 300/400, JAX 200/100.
    assert [(b["backend"], b["jit_compile"], b["ratio"]) for b in fastest["backends"]] == [
        ("tensorflow", True, 0.75), ("jax", True, 2.0)]
    assert (fastest["fastest_backend"], fastest["ratio"]) == ("jax", 2.0)
    table = report.summary_tables(summary, ["tensorflow", "jax"])
    assert "| graph | m | 0.75 (True) | 2.00 (True) | jax: 2.00 | – |" in table
    assert "| family | tensorflow jit=False | tensorflow jit=True | jax jit=True |" in table
    assert "| graph | 0.90 | 1.20 | 1.00 |" in table


def test_paired_ratio_uses_rounds_both_ran():
    zoo_row = {"train_samples_per_s": 100.0, "round_step_ms": {"0": 10.0, "1": 20.0, "2": 5.0}}
    keras_row = {"train_samples_per_s": 50.0, "round_step_ms": {"0": 9.0, "1": 22.0}}
    ratio, quartiles = report.paired_ratio(zoo_row, keras_row)
    # Rounds 0 and 1 only: 9/10 and 22/20; inclusive quartiles of two values.
    assert ratio == pytest.approx(1.0) and quartiles == pytest.approx([0.95, 1.05])
    assert report.paired_ratio({"train_samples_per_s": 100.0},
                               {"train_samples_per_s": 50.0}) == (2.0, None)


def test_bad_arguments_exit_with_usage():
    with pytest.raises(SystemExit):
        run.main(["--steps", "0"])
    with pytest.raises(SystemExit):
        run.main(["--families", "nonsense"])
    with pytest.raises(ValueError, match="Received: family='nonsense'"):
        cases.get_case("nonsense")


def test_jit_compile_defaults_per_backend():
    args = run.build_parser().parse_args([])
    assert run.jit_options(args, "tensorflow") == ((False, True), None)
    options, note = run.jit_options(args, "jax")
    assert options == (True,) and "--jit both" in note
    options, note = run.jit_options(args, "torch")
    assert options == (False,) and "--keras-torch-jit" in note
    args = run.build_parser().parse_args(["--keras-torch-jit", "--jit", "both"])
    assert run.jit_options(args, "torch") == ((False, True), None)
