"""A user's own files (``--data``) on every task that reads them: small files the tests
write themselves, the real datasets of ``../shared/data`` where they are present, and
the errors (one line naming the file and line, status 2, no run directory left)."""

import gzip
import os
import json
import struct

import keras
import numpy as np
import pytest

from applications import cli, tasks
from applications.formats.errors import DataFormatError

JIT = False if keras.backend.backend() == "tensorflow" else "auto"


def _fit_once(data, **params):
    model = data.build(jit_compile=JIT, **params)
    model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0)
    return data.evaluate(model)


# --- writing the formats -----------------------------------------------------------------------


def write_idx(path, array):
    codes = {np.dtype("uint8"): 0x08, np.dtype(">i4"): 0x0C}
    array = np.asarray(array)
    header = struct.pack(">HBB", 0, codes[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def image_folder(folder, n=40, size=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", n), ("t10k", n // 2)):
        labels = (np.arange(count) % classes).astype("uint8")
        images = rng.integers(0, 60, size=(count, size, size)).astype("uint8")
        for i, label in enumerate(labels):  # a bright band per class
            images[i, label * 2:label * 2 + 2] = 250
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


def reviews_csv(path, n=60):
    words = {"good": "great fine lovely", "bad": "awful poor dull", "meh": "okay plain so-so"}
    lines = ["id,text,label"]
    for i in range(n):
        label = list(words)[i % 3]
        lines.append(f'{i},"{words[label].split()[i % 3]}, really {label} film",{label}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CONLLU = ("# sent_id = {i}\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
          "2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n3-4\tcan't\t_\t_\t_\t_\t_\t_\t_\t_\n"
          "3\tca\tcan\tAUX\tMD\t_\t0\troot\t_\t_\n4\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_\n"
          "5\trun\trun\tVERB\tVB\t_\t3\txcomp\t_\t_\n\n")


# --- every task on a file ----------------------------------------------------------------------


def test_sentiment_reads_a_csv_with_string_labels_and_three_classes(tmp_path):
    data = tasks.load_task_data("sentiment", data=reviews_csv(tmp_path / "reviews.csv"),
                                batch_size=8)
    assert data.build_overrides["num_classes"] == 3
    assert data.info["classes"] == ["bad", "good", "meh"]
    assert data.info["dataset"].endswith("reviews.csv") and data.info["source"] == "file"
    scores = _fit_once(data, embedding_dim=4, filters=(4,), kernel_size=3)
    assert 0.0 <= scores["accuracy"] <= 1.0


def test_sentiment_columns_are_chosen_by_name(tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_text("review\tstars\n" + "".join(f"nice one {i}\t{i % 2}\n" for i in range(30)))
    data = tasks.load_task_data("sentiment", data=path, text_column="review",
                                label_column="stars")
    assert data.build_overrides["num_classes"] == 2
    with pytest.raises(DataFormatError, match=r"reviews\.tsv.*line 1.*text"):
        tasks.load_task_data("sentiment", data=path)


def test_tagging_reads_conllu_upos_and_xpos(tmp_path):
    path = tmp_path / "toy.conllu"
    path.write_text("".join(CONLLU.format(i=i) for i in range(20)), encoding="utf-8")
    upos = tasks.load_task_data("tagging", data=path, batch_size=4)
    assert upos.info["tags"] == ["AUX", "DET", "NOUN", "PART", "VERB"]
    assert upos.info["sequence_length"] == 5  # the multiword token is not a word
    xpos = tasks.load_task_data("tagging", data=path, tag_column="xpos")
    assert xpos.info["tags"] == ["DT", "MD", "NN", "RB", "VB"]
    scores = _fit_once(upos, embedding_dim=4, units=4, bidirectional=False)
    assert 0.0 <= scores["accuracy"] <= 1.0


def test_tagging_reads_a_conll2003_folder_with_its_splits(tmp_path):
    folder = tmp_path / "ner"
    folder.mkdir()
    sentence = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
    for split, count in (("train", 12), ("valid", 3), ("test", 4)):
        (folder / f"{split}.txt").write_text(sentence * count)
    data = tasks.load_task_data("tagging", data=folder)
    assert data.info["tags"] == ["B-ORG", "O"]
    assert (data.info["train_sentences"], data.info["validation_sentences"],
            data.info["test_sentences"]) == (12, 3, 4)
    pos = tasks.load_task_data("tagging", data=folder, tag_column="1")
    assert pos.info["tags"] == ["NNP", "VBZ"]


def test_translation_reads_tab_separated_pairs_and_ignores_attribution(tmp_path):
    path = tmp_path / "fra.txt"
    pairs = [("Go.", "Va !"), ("Run!", "Cours !"), ("Hi.", "Salut !"), ("Wait!", "Attends !")]
    path.write_text("".join(f"{a}\t{b}\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i}\n"
                            for i, (a, b) in enumerate(pairs * 8)), encoding="utf-8")
    data = tasks.load_task_data("translation", data=path, batch_size=4)
    assert data.info["train_pairs"] + data.info["validation_pairs"] + \
        data.info["test_pairs"] == 32
    scores = _fit_once(data, embedding_dim=4, latent_dim=8)
    assert "bleu" in scores


def test_images_from_an_idx_folder_feed_classification_and_autoencoders(tmp_path):
    folder = image_folder(tmp_path / "images")
    data = tasks.load_task_data("image_classification", data=folder, batch_size=8)
    assert data.build_overrides["image_shape"] == (8, 8, 1)
    assert data.build_overrides["num_classes"] == 3
    assert _fit_once(data, filters=(2, 3))["accuracy"] >= 0.0
    flat = tasks.load_task_data("reconstruction", model="dense_autoencoder", data=folder)
    assert flat.build_overrides["input_dim"] == 64
    assert _fit_once(flat, hidden_units=(8,), code_size=2)["mse"] >= 0.0


def test_images_from_a_keras_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 255, (30, 6, 6)).astype("uint8"),
             y_train=np.arange(30) % 2, x_test=rng.integers(0, 255, (10, 6, 6)).astype("uint8"),
             y_test=np.arange(10) % 2)
    data = tasks.load_task_data("image_classification", model="vit_classifier", data=path)
    assert data.build_overrides["image_shape"] == (6, 6, 1)
    assert data.build_overrides["num_classes"] == 2


def test_a_dataset_in_the_keras_cache_is_used_without_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    image_folder(tmp_path / "keras" / "datasets" / "fashion-mnist", size=28, classes=10, n=60)
    data = tasks.load_task_data("image_classification", dataset="fashion_mnist",
                                download=False)
    assert data.build_overrides["image_shape"] == (28, 28, 1)
    assert data.info["dataset"] == "fashion_mnist"


def test_node_classification_reads_node_and_edge_tables(tmp_path):
    folder = tmp_path / "graph"
    folder.mkdir()
    nodes = ["id,label,f1,f2"] + [f"n{i},{'ab'[i % 2]},{i % 2},{(i + 1) % 2}"
                                  for i in range(30)]
    edges = ["source,target"] + [f"n{i},n{(i + 2) % 30}" for i in range(30)]
    (folder / "nodes.csv").write_text("\n".join(nodes) + "\n")
    (folder / "edges.csv").write_text("\n".join(edges) + "\n")
    data = tasks.load_task_data("node_classification", data=folder)
    assert data.build_overrides == {"num_features": 2, "num_classes": 2}
    assert data.info["classes"] == ["a", "b"]
    assert _fit_once(data, hidden_units=(4,))["accuracy"] >= 0.0


def test_anomaly_reads_a_csv_series_with_labels(tmp_path):
    t = np.arange(1200)
    values = np.sin(t / 8.0)
    labels = np.zeros_like(t)
    labels[1000:1010] = 1
    values[1000:1010] += 3.0
    path = tmp_path / "series.csv"
    path.write_text("value,label\n" + "".join(f"{v:.5f},{y}\n" for v, y in zip(values, labels)))
    data = tasks.load_task_data("anomaly", model="dense_autoencoder", data=path, window=16)
    assert data.metric == "roc_auc" and data.build_overrides == {"input_dim": 16}
    scores = _fit_once(data, hidden_units=(8,), code_size=2)
    assert scores["roc_auc"] > 0.5
    unlabelled = tmp_path / "plain.csv"
    unlabelled.write_text("value\n" + "".join(f"{v:.5f}\n" for v in values))
    plain = tasks.load_task_data("anomaly", model="lstm_autoencoder", data=unlabelled,
                                 window=16)
    assert plain.metric == "mse" and plain.build_overrides == {"timesteps": 16, "features": 1}


# --- the errors --------------------------------------------------------------------------------


def test_options_that_need_a_file_or_a_file_task_are_refused():
    with pytest.raises(ValueError, match="give --data PATH too.*text_column='body'"):
        tasks.load_task_data("sentiment", text_column="body")
    with pytest.raises(ValueError, match="Task 'reversal' reads no user files"):
        tasks.load_task_data("reversal", data=__file__)
    with pytest.raises(FileNotFoundError, match="does not exist.*nowhere.csv"):
        tasks.load_task_data("sentiment", data="nowhere.csv")
    with pytest.raises(ValueError, match="two different datasets.*imdb_reviews"):
        tasks.load_task_data("sentiment", dataset="imdb_reviews", data=__file__)
    with pytest.raises(TypeError, match="Unknown data option.*colour"):
        tasks.load_task_data("sentiment", data=__file__, colour="red")


MALFORMED = {
    "missing column": ("sentiment", "reviews.csv", "words,label\nhi,1\nho,0\nhu,1\n",
                       r"reviews\.csv, line 1.*text"),
    "ragged row": ("sentiment", "reviews.csv", "text,label\nhi,1\nho,0,extra\nhu,1\n",
                   r"reviews\.csv, line 3"),
    "conllu fields": ("tagging", "bad.conllu", "1\tThe\tthe\tDET\n\n", r"bad\.conllu, line 1"),
    "empty file": ("sentiment", "empty.csv", "", r"empty\.csv"),
    "unseen label": ("tagging", "folder", None, r"test\.conllu, line \d+.*'X'"),
}


def _malformed(tmp_path, case):
    task, name, text, _ = MALFORMED[case]
    if text is not None:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return task, path
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "train.conllu").write_text(CONLLU.format(i=1) * 3)
    (folder / "dev.conllu").write_text(CONLLU.format(i=2))
    (folder / "test.conllu").write_text(CONLLU.format(i=3).replace("VERB", "X"))
    return task, folder


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_fail_in_one_line_with_status_2_and_no_run_directory(
        tmp_path, capsys, case):
    task, path = _malformed(tmp_path, case)
    out = tmp_path / "run"
    status = cli.main(["run", task, "--data", str(path), "--out", str(out), "--quiet",
                       "--epochs", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("zoo: error:"), err
    import re

    assert re.search(MALFORMED[case][3], err[0]), err[0]
    assert not out.exists()


def test_malformed_idx_header_and_planted_pickle_fail_through_the_command(tmp_path, capsys):
    folder = image_folder(tmp_path / "images")
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-5]))
    assert cli.main(["run", "image_classification", "--data", str(folder), "--quiet",
                     "--out", str(tmp_path / "run")]) == 2
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# --- the real datasets -------------------------------------------------------------------------


def test_cora_planetoid_split_from_the_original_files(real_data):
    data = tasks.load_task_data("node_classification", data=real_data("planetoid"), dataset="cora")
    assert data.info["nodes"] == 2708 and data.info["edges"] == 5278
    assert data.info["labelled"] == {"train": 140, "validation": 500, "test": 1000}
    assert data.build_overrides == {"num_features": 1433, "num_classes": 7}


def test_ud_english_ewt_from_the_conllu_files(real_data):
    data = tasks.load_task_data("tagging", data=real_data("ud_english_ewt"), limit=200)
    assert len(data.info["tags"]) == 17 and data.info["format"] == "conllu"
    assert data.info["test_sentences"] == 200


def test_fashion_mnist_from_the_idx_files(real_data):
    data = tasks.load_task_data("image_classification", data=real_data("fashion-mnist"), limit=100)
    assert data.build_overrides == {"image_shape": (28, 28, 1), "num_classes": 10}
    assert json.loads(json.dumps(data.info))["image_shape"] == [28, 28]


def _graph_folder(tmp_path):
    folder = tmp_path / "graph"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,label,f\n" + "".join(f"{i},{i % 2},{i % 2}\n"
                                                              for i in range(20)))
    (folder / "edges.csv").write_text("source,target\n" + "".join(f"{i},{(i + 2) % 20}\n"
                                                                  for i in range(20)))
    return folder


def test_compare_and_tune_read_the_same_file(tmp_path, capsys):
    folder = _graph_folder(tmp_path)
    assert cli.main(["compare", "gcn", "graphsage", "--task", "node_classification",
                     "--data", str(folder), "--epochs", "1", "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "gcn" in table and "graphsage" in table and "graph" in table
    status = cli.main(["tune", "gcn", "--task", "node_classification", "--data", str(folder),
                       "--max-trials", "1", "--epochs", "1", "--directory",
                       str(tmp_path / "search")])
    assert status == 0
    search = json.loads((tmp_path / "search" / "gcn" / "zoo_search.json").read_text())
    assert f"task node_classification: graph from {folder}" in search["data"]
    capsys.readouterr()
    assert cli.main(["tune", "gcn", "--task", "node_classification", "--toy"]) == 2
    assert "two data sources" in capsys.readouterr().err


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_planetoid_pickle_that_would_run_code_is_refused_by_the_command(tmp_path, capsys):
    import pickle

    folder = tmp_path / "planetoid"
    folder.mkdir()
    marker = tmp_path / "ran"
    (folder / "ind.cora.x").write_bytes(pickle.dumps(_Planted(marker), protocol=2))
    status = cli.main(["run", "node_classification", "--data", str(folder), "--dataset", "cora",
                       "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert "ind.cora.x" in err[0] and "refuses to unpickle" in err[0] and "system" in err[0]
    assert not marker.exists() and not (tmp_path / "run").exists()
