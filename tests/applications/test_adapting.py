"""``zoo run --from FILE.keras --lora R`` and ``--quantize MODE``: adapt and shrink a model."""

import json

import numpy as np
import pytest

import zoo
from applications import tasks
from tests.harness import to_numpy
from applications.generated import synthetic_product_reviews


@pytest.fixture(scope="module")
def movie_model(tmp_path_factory):
    """A transformer classifier trained briefly on the movie reviews (its card keeps the words)."""
    out = tmp_path_factory.mktemp("movies") / "run"
    metrics = tasks.run_task("sentiment", model="transformer_classifier", epochs=1, limit=300,
                             out=str(out), verbose=0)
    return out / "model.keras", metrics


def test_a_run_card_keeps_the_vocabulary(movie_model):
    path, _ = movie_model
    card = zoo.read_card(path)
    words = card["metadata"]["vocabulary"]
    assert words[:2] == ["", "[UNK]"] and "not" in words
    assert len(words) == card["zoo_config"]["vocab_size"]


def test_product_reviews_are_labelled_by_their_last_clause():
    texts, labels = synthetic_product_reviews(200, seed=0)
    assert set(np.unique(labels)) == {0, 1}
    checked = 0
    for text, label in zip(texts, labels):
        last = text.split(" but ")[-1].split(" and ")[-1].split(" then ")[-1].split()
        negative = any(word in last for word in ("awful", "boring", "dull", "weak"))
        positive = any(word in last for word in ("great", "wonderful", "superb", "funny"))
        negated = any(word in last for word in ("not", "never"))
        if (negative or positive) and not negated:
            assert label == int(positive), text
            checked += 1
    assert checked > 20


def test_lora_fine_tunes_a_shared_model_on_new_data(movie_model, tmp_path):
    path, _ = movie_model
    metrics = tasks.run_task("sentiment", dataset="generated_products", epochs=1, limit=300,
                             out=str(tmp_path / "lora"), verbose=0, from_file=str(path), lora=4)
    assert metrics["model"] == "transformer_classifier"
    assert metrics["from"]["file"] == str(path)
    lora = metrics["lora"]
    assert lora["rank"] == 4 and lora["adapted_layers"] > 0
    assert 0 < lora["trainable_params"] < 0.5 * lora["total_params"]
    adapters = tmp_path / "lora" / "adapters.npz"
    assert adapters.stat().st_size < (tmp_path / "lora" / "model.keras").stat().st_size
    # The merged model loads anywhere like any other file; the adapters load onto the base.
    merged = zoo.load(tmp_path / "lora" / "model.keras")
    base = zoo.load(path)
    zoo.load_adapters(base, adapters)
    x = np.random.default_rng(0).integers(0, 50, (3, base.zoo_config["max_length"]))
    np.testing.assert_allclose(to_numpy(merged(x)), to_numpy(base(x)), atol=1e-5)


def test_full_fine_tuning_from_a_shared_model(movie_model, tmp_path):
    path, _ = movie_model
    metrics = tasks.run_task("sentiment", dataset="generated_products", epochs=1, limit=300,
                             out=str(tmp_path / "full"), verbose=0, from_file=str(path))
    assert "lora" not in metrics and 0.0 <= metrics["accuracy"] <= 1.0
    assert not (tmp_path / "full" / "adapters.npz").exists()


def test_quantize_reports_the_metric_and_size_before_and_after(tmp_path):
    metrics = tasks.run_task("sentiment", model="transformer_classifier", epochs=1, limit=200,
                             out=str(tmp_path / "q"), verbose=0, quantize="int8")
    q = metrics["quantized"]
    assert q["mode"] == "int8" and q["layers"] > 0 and q["metric"] == "accuracy"
    assert abs(q["before"] - q["after"]) <= 0.1
    assert q["file_bytes_after"] < q["file_bytes_before"]
    assert q["parameter_bytes_after"] < q["parameter_bytes_before"]
    written = json.loads((tmp_path / "q" / "metrics.json").read_text())
    assert written["quantized"]["file"] == "model.int8.keras"
    assert zoo.load(tmp_path / "q" / "model.int8.keras") is not None


@pytest.mark.parametrize("kwargs, match", [
    ({"lora": 4}, r"--lora adapts a trained model.*Received: --lora 4 without --from"),
    ({"lora": 0, "from_file": "x.keras"}, r"lora.*Received: lora=0"),
    ({"quantize": "int3"}, r"quantize.*Received: quantize='int3'"),
    ({"from_file": "missing.keras"}, r"--from: no such file"),
    ({"from_file": "x.keras", "model": "cnn1d_classifier"}, r"leave out --model"),
])
def test_bad_adapting_arguments_fail_before_the_run_directory(kwargs, match, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    if kwargs.get("from_file") == "x.keras":
        (tmp_path / "x.keras").write_bytes(b"PK\x03\x04")
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        tasks.run_task("sentiment", epochs=1, limit=50, out=str(tmp_path / "run"), verbose=0,
                       **kwargs)
    assert not (tmp_path / "run").exists()


def test_a_shared_model_of_another_vocabulary_is_refused(movie_model, tmp_path):
    path, _ = movie_model
    with pytest.raises(ValueError, match=r"tagging|lstm_tagger|does not fit|classifier"):
        tasks.run_task("tagging", epochs=1, limit=50, out=str(tmp_path / "t"), verbose=0,
                       from_file=str(path))
