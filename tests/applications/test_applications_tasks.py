"""Applications: every task end to end on its offline default, every tfds path under
``tfds.testing.mock_data``, the data API other tools build on, and the errors."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

import zoo
from applications import cli, generated, tasks
from applications.errors import DatasetUnavailableError
from applications.tasks import graphs, scoring, sequences

# Toy model sizes per task's default model; jit_compile=False: tiny runs are dominated
# by compilation otherwise.
TINY = {
    "sentiment": {"embedding_dim": 4, "filters": (4,), "kernel_size": 3},
    "tagging": {"embedding_dim": 4, "units": 4, "bidirectional": False},
    "translation": {"embedding_dim": 4, "latent_dim": 8},
    "reversal": {"embedding_dim": 4, "latent_dim": 8},
    "text_generation": {"embedding_dim": 4, "units": 8},
    "reconstruction": {"filters": (2, 3), "code_size": 2},
    "denoising": {"hidden_units": (8,), "code_size": 2},
    "generation": {"hidden_units": (8,), "code_size": 2},
    "anomaly": {"filters": (2, 3), "code_size": 2},
    "dim_reduction": {"hidden_units": (8,), "code_size": 2},
    "node_classification": {"hidden_units": (4,)},
    "graph_classification": {"hidden_units": (4,)},
    "image_classification": {"filters": (2, 3)},
}
TASK_PLOTS = {
    "reconstruction": ["reconstructions.png"],
    "denoising": ["denoising.png"],
    "generation": ["reconstructions.png", "samples.png"],
    "anomaly": ["anomaly_scores.png", "reconstructions.png"],
    "dim_reduction": ["latent_scatter.png"],
    "node_classification": ["graph_predictions.png"],
}
# XLA compiles slowly on TensorFlow; JAX runs much faster compiled than op by op.
JIT = False if keras.backend.backend() == "tensorflow" else "auto"
PNG = b"\x89PNG\r\n\x1a\n"


def tiny(task):
    return {**TINY[task], "jit_compile": JIT}


def test_every_task_has_a_tiny_configuration():
    assert sorted(TINY) == sorted(tasks.TASKS)


def _run_argv(name, out):
    argv = ["run", name, "--epochs", "1", "--limit", "32", "--batch-size", "16",
            "--out", str(out), "--quiet"]
    for key, value in tiny(name).items():
        argv += ["--set", f"{key}={value!r}"]
    return argv


@pytest.mark.parametrize("name", sorted(TINY))
def test_task_runs_end_to_end_on_its_offline_default(name, tmp_path, capsys):
    task = tasks.get_task(name)
    assert task.datasets[task.default_dataset].offline
    out = tmp_path / "run"
    assert cli.main(_run_argv(name, out)) == 0
    printed = capsys.readouterr().out
    assert f"{name}: {task.default_model} on {task.default_dataset}" in printed
    assert f"run directory: {out} (metrics.json, model.keras, training_curves.png" in printed
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["task"] == name and saved["model"] == task.default_model
    assert saved["dataset"]["dataset"] == task.default_dataset
    assert saved["backend"] == keras.backend.backend()
    assert math.isfinite(saved[saved["metric"]])
    assert saved["test"][saved["metric"]] == saved[saved["metric"]]
    assert len(saved["history"]["loss"]) == 1
    for plot in ["training_curves.png", *TASK_PLOTS.get(name, [])]:
        assert plot in saved["plots"]
        assert (out / plot).read_bytes()[:8] == PNG
    model = zoo.load(out / "model.keras")
    assert model.zoo_name == task.default_model
    card = zoo.read_card(out / "model.keras")
    assert json.dumps(card).count(task.default_dataset) >= 1
    if name == "text_generation":
        assert "[model]" in (out / "samples.txt").read_text()
    if name in ("translation", "reversal"):
        assert len(saved["examples"]) == 8 and set(saved["examples"][0]) == {
            "source", "target", "predicted"}
    if name == "anomaly":  # and a run directory is never overwritten
        before = (out / "metrics.json").read_bytes()
        assert cli.main(_run_argv(name, out)) == 2
        assert f"is not empty; choose another --out so nothing is overwritten. " \
               f"Received: out='{out}'" in capsys.readouterr().err
        assert (out / "metrics.json").read_bytes() == before
        with pytest.raises(FileExistsError, match="is not empty"):
            tasks.run_reversal(out=out)


# --- the data API (used by the tuner and `zoo compare`) ---------------------------------------


def test_load_task_data_gives_pipelines_build_arguments_and_a_scorer():
    data = tasks.load_task_data("sentiment", model="rnn_classifier", limit=48, batch_size=16)
    assert data.metric == "accuracy" and data.higher_is_better
    assert data.build_overrides == {"vocab_size": data.build_overrides["vocab_size"],
                                    "num_classes": 2, "input_type": "tokens"}
    tokens, labels = next(iter(data.train.as_numpy_iterator()))
    assert tokens.dtype == np.int32 and tokens.shape == (16, 40) and labels.shape == (16, 1)
    assert tokens.max() < data.build_overrides["vocab_size"]
    model = data.build(embedding_dim=4, units=4)
    assert model.zoo_config["vocab_size"] == data.build_overrides["vocab_size"]
    small = zoo.get_spec("rnn_classifier").size("small")
    assert model.zoo_config["learning_rate"] == small["learning_rate"]
    assert data.suggested_params() == small  # the sentiment task adds nothing of its own
    scores = data.evaluate(model)
    assert 0.0 <= scores["accuracy"] <= 1.0 and "loss" in scores


@pytest.mark.parametrize("task, model, expected", [
    # The task's own parameters over the model's "small" registry size.
    ("dim_reduction", "dense_autoencoder", {"hidden_units": (128, 64), "code_size": 2,
                                            "code_activation": None, "learning_rate": 2e-3}),
    ("anomaly", "conv_autoencoder", {"filters": (16, 32), "code_size": 8,
                                     "learning_rate": 2e-3}),
    ("generation", "vae", {"hidden_units": (128,), "code_size": 8, "learning_rate": 2e-3}),
    ("reconstruction", "lstm_autoencoder", {"units": 64, "code_size": 16,
                                            "learning_rate": 5e-3}),
    ("node_classification", "gcn", {"hidden_units": (16, 16), "learning_rate": 1e-2}),
])
def test_task_sizes_are_the_registry_small_size_plus_the_task_meaning(task, model, expected):
    data = tasks.load_task_data(task, model=model, limit=8)
    params = data.suggested_params()
    assert {key: params[key] for key in expected} == expected
    built = zoo.model_params(data.build())
    assert {key: built[key] for key in expected} == expected


def test_task_data_follows_the_models_input_layout():
    shapes = {}
    for model in ("dense_autoencoder", "conv_autoencoder", "lstm_autoencoder"):
        data = tasks.load_task_data("reconstruction", model=model, limit=8)
        x, y = next(iter(data.train.as_numpy_iterator()))
        shapes[model] = (x.shape[1:], data.build_overrides)
        np.testing.assert_array_equal(x, y)
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert shapes["dense_autoencoder"] == ((64,), {"input_dim": 64})
    assert shapes["conv_autoencoder"] == ((8, 8, 1), {"input_shape": (8, 8, 1)})
    assert shapes["lstm_autoencoder"] == ((8, 8), {"timesteps": 8, "features": 8})


def test_same_seed_gives_the_same_data_and_another_seed_other_data():
    def first_sources(seed):
        data = tasks.load_task_data("translation", limit=16, seed=seed)
        return next(iter(data.train.as_numpy_iterator()))[0]["source_tokens"]

    np.testing.assert_array_equal(first_sources(3), first_sources(3))
    assert not np.array_equal(first_sources(3), first_sources(4))


def test_denoising_pipeline_corrupts_inputs_only_for_models_without_their_own_noise():
    plain = tasks.load_task_data("denoising", model="dense_autoencoder", limit=8)
    noisy, clean = next(iter(plain.train.as_numpy_iterator()))
    assert np.abs(noisy - clean).mean() > 0.05
    own = tasks.load_task_data("denoising", model="denoising_autoencoder", limit=8)
    x, y = next(iter(own.train.as_numpy_iterator()))
    np.testing.assert_array_equal(x, y)


def test_anomaly_training_data_leaves_out_the_anomalous_class():
    data = tasks.load_task_data("anomaly", limit=200)
    assert (data.extras["labels_test"] == 0).any()
    train_labels = [label for _, label in data.extras["parts"]["train"].as_numpy_iterator()]
    assert len(train_labels) > 100 and 0 not in train_labels


# --- generated data and scores ----------------------------------------------------------------


def test_generated_sets_follow_their_rules():
    _, _, sources, targets = generated.date_normalisation(50, seed=0)
    import datetime

    for source, target in zip(sources, targets):
        day = datetime.date.fromisoformat(target)
        assert str(day.day) in source and (str(day.year) in source or
                                           str(day.year)[2:] in source)
    texts, labels = generated.synthetic_reviews(200, seed=0)
    assert 0.3 < labels.mean() < 0.7
    sentences, tags = generated.synthetic_entities(20, seed=0)
    assert all(len(s) == len(t) for s, t in zip(sentences, tags))
    graphs_, labels_ = generated.trees_and_cycles(20, seed=0)
    for graph, label in zip(graphs_, labels_):
        nodes, edges = len(graph["node_features"]), graph["edge_index"].shape[1] // 2
        assert edges == nodes - 1 + label


def test_review_labels_flip_with_negation():
    texts, labels = generated.synthetic_reviews(400, seed=1)
    single = [(t, y) for t, y in zip(texts, labels) if " and " not in t and " but " not in t
              and " while " not in t and " although " not in t]
    for text, label in single:
        positive = any(word in text.split() for word in generated._POSITIVE)
        negated = " not " in text or " never " in text
        assert label == int(positive != negated), text


def test_scores():
    assert scoring.corpus_bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(100.0)
    assert scoring.corpus_bleu(["a b c d"], ["x y z w"]) == 0.0
    assert 0 < scoring.corpus_bleu(["the cat sat on the mat"], ["the cat sat on a mat"]) < 100
    result = scoring.binary_scores([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.5)
    assert result["roc_auc"] == pytest.approx(0.75)
    assert (result["precision"], result["recall"]) == (1.0, 0.5)


def test_padded_graph_batches_have_one_shape_and_an_ignored_padding_slot():
    graph_list, labels = generated.trees_and_cycles(7, seed=0)
    (train, train_labels), (test, test_labels) = graphs.pad_batches(
        [graph_list[:5], graph_list[5:]], [labels[:5], labels[5:]], batch_size=3)
    shapes = {tuple(v.shape for v in batch.values()) for batch in train + test}
    assert len(shapes) == 1 and len(train) == 2 and len(test) == 1
    for batch, y in zip(train + test, train_labels + test_labels):
        sizes = np.bincount(batch["graph_ids"], minlength=4)
        np.testing.assert_array_equal(sizes, batch["graph_sizes"])
        assert y[-1] == -1 and (sizes > 0).all()
    np.testing.assert_array_equal(test_labels[0], [labels[5], labels[6], -1, -1])


def test_word_decoder_stops_at_the_end_token():
    decode = sequences.WordDecoder(["", "[UNK]", "hello", "world"], offset=2, stop=(0, 2))
    assert decode(np.array([[4, 5, 3, 2, 4]])) == ["hello world [UNK]"]


# --- tensorflow-datasets paths (mock data, no network) ----------------------------------------

TFDS_CASES = [
    ("sentiment", "imdb_reviews", "cnn1d_classifier"),
    ("tagging", "conll2003", "lstm_tagger"),
    ("translation", "ted_hrlr_translate/pt_to_en", "gru_seq2seq"),
    ("text_generation", "tiny_shakespeare", "lstm_lm"),
    ("reconstruction", "mnist", "dense_autoencoder"),
    ("denoising", "fashion_mnist", "conv_autoencoder"),
    ("graph_classification", "ogbg_molpcba", "gcn_graph_classifier"),
]


@pytest.mark.parametrize("task,dataset,model", TFDS_CASES, ids=[c[1] for c in TFDS_CASES])
def test_tfds_dataset_feeds_a_model_and_is_scored_under_mock_data(task, dataset, model):
    with tfds.testing.mock_data(num_examples=8):
        data = tasks.load_task_data(task, model=model, dataset=dataset, limit=8, batch_size=4)
        assert data.info["source"] == "tfds" and data.dataset == dataset
        toy = {k: v for k, v in zoo.get_spec(model).toy.items() if k not in data.build_overrides}
        net = data.build(**{**toy, "num_layers": 1}, jit_compile=JIT) \
            if "num_layers" in toy else data.build(**toy, jit_compile=JIT)
        x, y = next(iter(data.train.as_numpy_iterator()))
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(net.predict(x, verbose=0))))
        scores = data.evaluate(net)
    assert math.isfinite(scores[data.metric])


def test_tfds_anomaly_split_leaves_out_the_anomalous_class():
    with tfds.testing.mock_data(num_examples=40):
        data = tasks.load_task_data("anomaly", dataset="mnist", limit=40)
        train = [label for _, label in data.extras["parts"]["train"].as_numpy_iterator()]
        test = [label for _, label in data.extras["parts"]["test"].as_numpy_iterator()]
    assert 0 in test and 0 not in train and len(train) > 20


def test_tfds_run_writes_plots_under_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=6):
        metrics = tasks.run_task("dim_reduction", dataset="mnist", epochs=1, limit=6,
                                 out=tmp_path / "mnist", verbose=0, **tiny("dim_reduction"))
    assert metrics["dataset"]["image_shape"] == [28, 28]
    assert (tmp_path / "mnist" / "latent_scatter.png").read_bytes()[:8] == PNG


def test_missing_tfds_dataset_says_how_to_work_offline(tmp_path):
    with pytest.raises(DatasetUnavailableError,
                       match=r"imdb_reviews.*downloads turned off.*offline default "
                             r"\(--dataset generated_reviews\).*--data-dir"):
        tasks.load_task_data("sentiment", dataset="imdb_reviews", data_dir=str(tmp_path),
                             download=False)


def test_failed_download_says_how_to_work_offline(monkeypatch, capsys):
    def no_network(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'storage.googleapis.com'")

    monkeypatch.setattr(tfds, "load", no_network)
    with pytest.raises(DatasetUnavailableError,
                       match=r"storage.googleapis.com.*offline default \(--dataset digits\)"):
        tasks.load_task_data("reconstruction", dataset="mnist")
    assert cli.main(["run", "tagging", "--dataset", "conll2003", "--out", "unused"]) == 2
    assert "offline default (--dataset generated_entities)" in capsys.readouterr().err


# --- bad input --------------------------------------------------------------------------------


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ValueError, match=r"Unknown task 'sentimnt'. Available tasks: anomaly, "
                                         r"denoising, .*tagging, text_generation, translation"):
        tasks.load_task_data("sentimnt")


def test_model_of_the_wrong_kind_lists_the_compatible_ones():
    with pytest.raises(ValueError, match=r"needs a classifier over token ids; 'lstm_seq2seq' is "
                                         r"a seq2seq model.*Compatible models: "
                                         r"bilstm_classifier, cnn1d_classifier, "
                                         r"gru_classifier, lstm_classifier, rnn_classifier, "
                                         r"transformer_classifier\. Received"):
        tasks.load_task_data("sentiment", model="lstm_seq2seq")
    with pytest.raises(ValueError, match="needs a classifier over token ids; 'vit_classifier'"):
        tasks.load_task_data("sentiment", model="vit_classifier")
    with pytest.raises(ValueError, match="needs a variational autoencoder.*Compatible models: "
                                         "beta_vae, conv_vae, vae"):
        tasks.run_task("generation", model="dense_autoencoder")
    with pytest.raises(ValueError, match="Did you mean 'lstm_tagger'"):
        tasks.load_task_data("tagging", model="lstm_taggr")


def test_unknown_dataset_lists_the_datasets():
    with pytest.raises(ValueError, match=r"no dataset 'imdb'. Available: generated_reviews "
                                         r"\(offline\), generated_products \(offline\), "
                                         r"imdb_reviews \(tfds\)"):
        tasks.load_task_data("sentiment", dataset="imdb")


def test_bad_sizes_and_epochs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Received: limit=0"):
        tasks.load_task_data("reversal", limit=0)
    with pytest.raises(ValueError, match="Received: batch_size=-1"):
        tasks.load_task_data("reversal", batch_size=-1)
    with pytest.raises(ValueError, match="Received: epochs=0"):
        tasks.run_task("reversal", epochs=0, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cli_errors_exit_2_with_the_reason(capsys):
    assert cli.main(["run", "sentiment", "--set", "units"]) == 2
    assert "--set needs KEY=VALUE. Received: --set 'units'" in capsys.readouterr().err
    assert cli.main(["run", "sentiment", "--model", "lstm_classifier", "--set", "unitz=3",
                     "--limit", "8", "--out", "unused_dir_never_created"]) == 2
    assert "unknown parameter(s) 'unitz' (did you mean 'units'?)" in capsys.readouterr().err
    assert cli.parse_overrides(["code_size=8", "activation=tanh", "hidden_units=(4, 2)"]) == {
        "code_size": 8, "activation": "tanh", "hidden_units": (4, 2)}


def test_tasks_command_lists_and_describes(capsys):
    assert cli.main(["tasks"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in tasks.TASKS)
    assert cli.main(["tasks", "anomaly"]) == 0
    text = capsys.readouterr().out
    assert "digits (default) [offline]" in text and "mnist [tfds]" in text
    assert "compatible models: beta_vae" in text
