"""The generation benchmark runs end to end at toy sizes (zoo only: no keras-hub needed)."""

import json
import sys

import keras
import pytest

import zoo
from benchmarks import generation_report, generation_vs_keras_hub as bench

# --threads 0: leave the test process' thread settings alone.
TOY = ["--no-anchor", "--toy", "--threads", "0", "--batches", "1", "--repeats", "1",
       "--model-tokens", "3"]
MODELS = ["lstm_lm", "transformer_seq2seq"]  # one recurrent model and the one with a length cap


def test_the_other_generators_are_found_through_the_registry():
    generators = {name for name in zoo.list_models()
                  if zoo.get_spec(name).capabilities.generation is not None}
    found = bench.generating_models()
    assert set(found) == generators - {"gpt_decoder"}
    assert {"lstm_seq2seq", "gru_seq2seq", "attention_seq2seq", "lstm_lm",
            "transformer_seq2seq"} <= set(found)


def _positive(row, keys):
    for key in keys:
        assert isinstance(row[key], (int, float)) and row[key] > 0, (key, row)


def test_toy_run_writes_rows_tables_and_the_merged_report(tmp_path):
    stem = tmp_path / "generation_x"
    bench.main(TOY + ["--tokens", "2", "4", "--models", *MODELS, "--out", str(stem)])
    result = json.loads(stem.with_suffix(".json").read_text())
    backend = keras.backend.backend()
    assert result["environment"]["backend"] == backend
    assert result["settings"]["anchor"] is False and result["settings"]["toy"] is True

    anchor = [row for row in result["rows"] if row["section"] == "anchor"]
    assert [(row["new_tokens"], row["batch"]) for row in anchor] == [(2, 1), (4, 1)]
    for row in anchor:
        assert "error" not in row, row
        assert row["model"] == "gpt_decoder" and row["backend"] == backend
        _positive(row, ["zoo_seconds", "zoo_tokens_per_s", "zoo_ms_per_token",
                        "zoo_first_call_s"])
        assert row["keras_hub_tokens_per_s"] is None and row["zoo_over_keras_hub"] is None
        assert row["zoo_tokens_per_s"] == pytest.approx(
            row["batch"] * row["new_tokens"] / row["zoo_seconds"], rel=0.02)

    others = [row for row in result["rows"] if row["section"] == "models"]
    assert [row["model"] for row in others] == MODELS
    for row in others:
        assert "error" not in row, row
        assert (row["batch"], row["new_tokens"]) == (1, 3)
        _positive(row, ["seconds", "tokens_per_s", "ms_per_token", "first_call_s", "params"])

    compiled = {entry["model"] for entry in result["compile"]}
    assert compiled == {"gpt_decoder (zoo)"} | {row["model"] for row in others}
    for entry in result["compile"]:
        assert entry["first_call_s"] > 0
    flat = result["flat_cost"]
    assert (flat["batch"], flat["from_tokens"], flat["to_tokens"]) == (1, 2, 4)
    assert flat["zoo"] > 0 and flat["keras_hub"] is None

    table = stem.with_suffix(".md").read_text()
    assert "| gpt_decoder (zoo) |" in table and "Toy sizes" in table
    assert generation_report.main(["--results", str(tmp_path)]) is None
    merged = (tmp_path / "generation.md").read_text()
    for heading in ("## zoo against keras-hub", "## Other zoo generators",
                    "## First call (compile) times", "## Flat cost"):
        assert heading in merged
    assert f"| {backend} | 1 | 4 |" in merged


def test_missing_keras_hub_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras_hub", None)  # makes `import keras_hub` fail
    with pytest.raises(SystemExit) as raised:
        bench.main(["--toy", "--threads", "0", "--tokens", "2", "--batches", "1", "--models"])
    assert str(raised.value) == bench.NO_KERAS_HUB
    assert "pip install -e .[bench]" in bench.NO_KERAS_HUB and "--no-anchor" in bench.NO_KERAS_HUB
