"""The committed catalogue (zoo/catalogue.json) that `zoo list` and `zoo describe` read
without starting Keras: it must say exactly what the registry says."""

import json

import pytest

import zoo
from zoo import catalogue

PATTERNS = ["*", "*seq2seq*", "dense_autoencoder*", "gcn*", "*_toy", "nothing*", "[gl]*",
            "*classifier", "vae", "VAE"]


def test_the_committed_catalogue_is_up_to_date_with_the_registry():
    # If this fails, regenerate it: python -m zoo.catalogue
    committed = catalogue.PATH.read_text(encoding="utf-8")
    assert committed == catalogue.dumps(catalogue.build()), (
        "zoo/catalogue.json is out of date with the registry; run `python -m zoo.catalogue`")
    assert catalogue.main(["--check"]) == 0


@pytest.mark.parametrize("pattern", PATTERNS)
def test_names_are_those_of_list_models(pattern):
    data = catalogue.read()
    families = [None, *zoo.FAMILIES]
    model_tasks = [None, *sorted({zoo.get_spec(name).task for name in zoo.list_models()})]
    for family in families:
        for task in model_tasks:
            assert catalogue.names(data, pattern, family=family, task=task) == \
                zoo.list_models(pattern, family=family, task=task), (pattern, family, task)


def test_unknown_filters_and_names_are_left_to_the_registry():
    data = catalogue.read()
    assert catalogue.names(data, family="autoencoders") is None
    assert catalogue.names(data, task="reconstructing") is None
    assert catalogue.entry(data, "lstm_seq2sq") is None
    assert catalogue.entry(data, "vae")["describe"] == str(zoo.describe("vae"))


def test_a_missing_corrupt_or_foreign_catalogue_reads_as_none(tmp_path):
    assert catalogue.read(tmp_path / "missing.json") is None
    (tmp_path / "junk.json").write_bytes(b"\xff{not json")
    assert catalogue.read(tmp_path / "junk.json") is None
    (tmp_path / "other.json").write_text(json.dumps({"format": 99, "models": {}}))
    assert catalogue.read(tmp_path / "other.json") is None
    assert catalogue.read(tmp_path) is None  # a directory


def test_a_stale_catalogue_is_caught_by_the_check(tmp_path, monkeypatch):
    stale = json.loads(catalogue.PATH.read_text())
    stale["order"].remove("vae")
    del stale["models"]["vae"]
    path = tmp_path / "catalogue.json"
    path.write_text(catalogue.dumps(stale))
    monkeypatch.setattr(catalogue, "PATH", path)
    assert catalogue.main(["--check"]) == 1
    assert catalogue.write(path) is True and catalogue.main(["--check"]) == 0
    assert catalogue.write(path) is False
