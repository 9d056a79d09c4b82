"""Ids, labels and graph indices are checked at the edge of every zoo model (issue #15).

Before these checks an id past the vocabulary gave NaN on JAX (and wrapped
around or failed deep in a gather elsewhere), a negative id wrapped around
on TensorFlow, float ids were truncated, a binary classifier trained on
label 5, out-of-range node ids given as tensors or ``tf.data`` were dropped
by the segment sums, ``temperature=inf`` made ``zoo.generate`` return only
padding and ``learning_rate=inf`` was accepted.
"""

import keras
import numpy as np
import pytest

import zoo
from zoo import validation
from zoo.model import ValueRange, check_values

TOKENS = (r"`tokens` holds token ids outside \[0, 20\) "
          r"\(input_dim=20 of layer 'token_embedding'\)\. ")
BINARY = (r"`y` holds targets outside \[0, 1\] \(binary cross-entropy of output 'probabilities' "
          r"takes labels 0 and 1 or probabilities between\)\. ")


def _example(model, n=4, seed=0):
    return zoo.spec_of(model).example_data(zoo.model_params(model), n, seed)


def _tensors(tree):
    return keras.tree.map_structure(keras.ops.convert_to_tensor, tree)


def _tf():
    return pytest.importorskip("tensorflow")  # tf.data comes with the TensorFlow extra


@pytest.fixture(scope="module")
def classifier():
    """A binary token classifier (vocab_size=20, one sigmoid unit) and valid data."""
    model = zoo.build("cnn1d_classifier", size="toy")
    x, y = _example(model)
    return model, x, y


@pytest.fixture
def converted(monkeypatch):
    """Sizes of the arrays ``keras.ops.convert_to_numpy`` brings to the host from now on."""
    sizes = []
    convert = keras.ops.convert_to_numpy

    def recording(value):
        result = convert(value)
        sizes.append(np.size(result))
        return result

    monkeypatch.setattr(keras.ops, "convert_to_numpy", recording)
    return sizes


def _with(array, index, value):
    array = np.array(array)
    array[index] = value
    return array


# --- what each model declares -------------------------------------------------------------------


@pytest.mark.parametrize("name,expected", [
    ("cnn1d_classifier", {"tokens": (0, 20)}),
    ("gru_seq2seq", {"source_tokens": (0, 11), "target_tokens": (0, 12)}),
    ("lstm_lm", {"tokens": (0, 12)}),
    ("gcn_graph_classifier", {"edge_index": ("node_features", 1),
                              "graph_ids": ("graph_sizes", 1), "graph_sizes": None}),
    ("graph_autoencoder", {"edge_index": ("node_features", 1),
                           "pair_index": ("node_features", 1)}),
    ("vae", {}),
])
def test_input_ranges_come_from_the_model_itself(name, expected):
    ranges = zoo.build(name, size="toy").input_ranges()
    assert set(ranges) == set(expected)
    for key, bound in expected.items():
        if bound is None:  # an integer input with no bound: whole numbers only
            assert not ranges[key].bounded() and ranges[key].integral
        elif isinstance(bound[0], str):
            assert (ranges[key].low, ranges[key].size_of) == (0, bound)
        else:
            assert (ranges[key].low, ranges[key].high) == bound


@pytest.mark.parametrize("name,overrides,expected", [
    ("cnn1d_classifier", {}, (0, 1, False)),
    ("cnn1d_classifier", {"num_classes": 3}, (0, 3, True)),
    ("transformer_tagger", {}, (0, 5, True)),  # num_tags=4 plus class 0, padding
    ("lstm_lm", {}, (0, 12, True)),
    ("gru_seq2seq", {}, (0, 12, True)),
    ("gcn", {}, (-1, 3, True)),  # -1 marks an unlabelled node
    ("graph_autoencoder", {}, (0, 1, False)),
    ("vae", {}, None),
])
def test_target_ranges_come_from_the_compiled_loss(name, overrides, expected):
    model = zoo.build(name, size="toy", **overrides)
    ranges = model.target_ranges()
    if expected is None:
        assert ranges == {}
        return
    (value_range,) = ranges.values()
    assert (value_range.low, value_range.high, value_range.integral) == expected


def test_an_uncompiled_model_declares_no_target_range():
    assert zoo.build("cnn1d_classifier", size="toy", compile=False).target_ranges() == {}


# --- token ids ---------------------------------------------------------------------------------


ENTRY_POINTS = {
    "fit": lambda model, x, y: model.fit(x, y, verbose=0),
    "evaluate": lambda model, x, y: model.evaluate(x, y, verbose=0),
    "predict": lambda model, x, y: model.predict(x, verbose=0),
    "train_on_batch": lambda model, x, y: model.train_on_batch(x, y),
    "test_on_batch": lambda model, x, y: model.test_on_batch(x, y),
    "predict_on_batch": lambda model, x, y: model.predict_on_batch(x),
    "call": lambda model, x, y: model(x),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("bad", [20, 10**6, -1])
def test_token_ids_outside_the_vocabulary_are_refused(classifier, entry, bad):
    model, x, y = classifier
    with pytest.raises(ValueError, match=TOKENS + rf"Received: tokens={bad}$"):
        ENTRY_POINTS[entry](model, _with(x, (1, 1), bad), y)


@pytest.mark.parametrize("entry", ["fit", "evaluate", "predict", "train_on_batch",
                                   "predict_on_batch"])
def test_backend_tensors_are_checked_too(classifier, entry):
    model, x, y = classifier
    bad = _tensors(_with(x, (2, 0), -3))
    with pytest.raises(ValueError, match=TOKENS + r"Received: tokens=-3$"):
        ENTRY_POINTS[entry](model, bad, _tensors(y))


def test_tensors_are_checked_with_a_reduction_not_a_copy(classifier, converted):
    model, x, y = classifier
    tokens = _tensors(np.tile(x, (64, 8)))
    model.check_data(tokens, _tensors(y))
    assert converted and max(converted) <= 3  # a few scalars per checked tensor
    with pytest.raises(ValueError, match=r"Received: tokens=25$"):
        model.check_data(_tensors(_with(np.tile(x, (64, 8)), (200, 30), 25)))
    with pytest.raises(ValueError, match=r"Received: tokens=2\.5$"):
        model.check_data(_tensors(_with(np.tile(x, (64, 8)).astype("float32"), (9, 9), 2.5)))
    assert max(converted) <= 3


def test_float_ids_must_be_whole_numbers(classifier):
    model, x, y = classifier
    fractional = x.astype("float32")
    fractional[0, 0] = 1.5
    message = (r"`tokens` must hold whole numbers \(token ids\): a fractional value would be "
               r"truncated\. Received: tokens=1\.5$")
    with pytest.raises(ValueError, match=message):
        model.predict(fractional, verbose=0)
    with pytest.raises(ValueError, match=message):
        model.fit(_tensors(fractional), y, verbose=0)
    nan = x.astype("float32")
    nan[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"Received: tokens=nan$"):
        model.predict(nan, verbose=0)
    # Whole numbers in a float array are the same ids.
    np.testing.assert_allclose(model.predict(x.astype("float32"), verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match=r"must be a numeric array of token ids\. "
                                         r"Received: tokens\.dtype="):
        model.predict(x.astype(str), verbose=0)


# --- labels ------------------------------------------------------------------------------------


def test_a_binary_classifier_refuses_labels_outside_0_1(classifier):
    model, x, y = classifier
    for bad, shown in ((5, "5"), (-1, "-1"), (np.nan, "nan")):
        labels = _with(y.astype("float32"), 0, bad)
        with pytest.raises(ValueError, match=BINARY + rf"Received: y={shown}$"):
            model.fit(x, labels, verbose=0)
    with pytest.raises(ValueError, match=BINARY + r"Received: y=5$"):
        model.evaluate(_tensors(x), _tensors(_with(y, 1, 5)), verbose=0)
    with pytest.raises(ValueError, match=BINARY + r"Received: y=2$"):
        model.fit(x, y, validation_data=(x, _with(y, 0, 2)), verbose=0)
    # Soft labels (probabilities) are what binary cross-entropy takes.
    assert np.isfinite(model.fit(x, np.full(y.shape, 0.25, "float32"),
                                 verbose=0).history["loss"][0])


@pytest.mark.parametrize("name,overrides,bad,message", [
    ("cnn1d_classifier", {"num_classes": 3}, 3,
     r"`y` holds class ids outside \[0, 3\) \(output 'probabilities' has 3 classes\)\. "
     r"Received: y=3$"),
    ("transformer_tagger", {}, 5,
     r"`y` holds class ids outside \[0, 5\) \(output 'tag_probabilities' has 5 classes\)\. "
     r"Received: y=5$"),
    ("transformer_tagger", {}, -1, r"outside \[0, 5\) .*Received: y=-1$"),
    ("gpt_decoder", {}, 12, r"outside \[0, 12\) \(output 'logits' has 12 classes\)\. "
                            r"Received: y=12$"),
    ("gru_seq2seq", {}, 12, r"outside \[0, 12\) .*Received: y=12$"),
    ("gcn", {}, 3, r"`y` holds class ids outside \[-1, 3\) \(output 'node_probabilities' has "
                   r"3 classes; -1 is ignored\)\. Received: y=3$"),
    ("gcn_graph_classifier", {}, -2, r"outside \[-1, 3\) .*Received: y=-2$"),
    ("graph_autoencoder", {}, 2, r"`y` holds targets outside \[0, 1\] .*Received: y=2$"),
])
def test_labels_outside_the_classes_are_refused(name, overrides, bad, message):
    model = zoo.build(name, size="toy", **overrides)
    x, y = _example(model, n=5)
    labels = np.array(y)
    labels.reshape(-1)[1] = bad
    with pytest.raises(ValueError, match=message):
        model.fit(x, labels, verbose=0)
    with pytest.raises(ValueError, match=message):
        model.train_on_batch(_tensors(x), _tensors(labels))


def test_unlabelled_nodes_are_still_allowed():
    model = zoo.build("gcn", size="toy")
    x, y = _example(model, n=6)
    labels = np.array(y)
    labels[0, :3] = -1
    assert np.isfinite(model.fit(x, labels, verbose=0).history["loss"][0])


# --- graph indices given as tensors ------------------------------------------------------------


def test_graph_indices_given_as_tensors_are_checked(converted):
    model = zoo.build("gcn_graph_classifier", size="toy")
    x, y = _example(model, n=3)
    n, graphs = x["node_features"].shape[1], x["graph_sizes"].shape[1]
    bad = {**x, "edge_index": _with(x["edge_index"], (0, 0, 1), n)}
    for entry in ("fit", "evaluate", "predict", "train_on_batch", "predict_on_batch"):
        with pytest.raises(ValueError, match=rf"`edge_index` holds node ids outside \[0, {n}\) "
                                             rf"\(num_nodes={n}\)\. Received: edge_index={n}$"):
            ENTRY_POINTS[entry](model, _tensors(bad), _tensors(y))
    assert converted and max(converted) <= 3  # a reduction, not a copy of the batch
    bad = {**x, "graph_ids": _with(x["graph_ids"], (0, 0), -1)}
    with pytest.raises(ValueError, match=rf"`graph_ids` holds graph ids outside \[0, {graphs}\) "
                                         rf"\(num_graphs={graphs}\)\. Received: graph_ids=-1$"):
        model.predict(_tensors(bad), verbose=0)
    link = zoo.build("graph_autoencoder", size="toy")
    lx, ly = _example(link, n=5)
    with pytest.raises(ValueError, match=r"Received: pair_index=-7$"):
        link.evaluate(_tensors({**lx, "pair_index": _with(lx["pair_index"], (0, 1, 0), -7)}),
                      _tensors(ly), verbose=0)


# --- tf.data -----------------------------------------------------------------------------------


def test_tf_data_elements_are_checked_when_consumed(classifier):
    tf = _tf()
    model, x, y = classifier
    before = model.predict(x, verbose=0)

    def dataset(tokens, labels=None):
        data = tokens if labels is None else (tokens, labels)
        return tf.data.Dataset.from_tensor_slices(data).batch(2)

    # A bad first batch: nothing is trained, and the model is whole afterwards
    # (the JAX trainer holds the weights outside the variables while it runs).
    with pytest.raises(ValueError, match=TOKENS + r"Received: tokens=20$"):
        model.fit(dataset(_with(x, (0, 1), 20), y), verbose=0)
    with pytest.raises(ValueError, match=TOKENS + r"Received: tokens=20$"):
        model.predict(dataset(_with(x, (3, 1), 20)), verbose=0)
    with pytest.raises(ValueError, match=BINARY + r"Received: y=5$"):
        model.evaluate(dataset(x, _with(y, 0, 5)), verbose=0)
    with pytest.raises(ValueError, match=r"`tokens` must hold whole numbers .*"
                                         r"Received: tokens=2\.5$"):
        model.predict(dataset(_with(x.astype("float32"), (0, 0), 2.5)), verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), before, atol=1e-6)
    # A bad later batch (or validation batch) fails when it is reached; the
    # steps before it count, and the model keeps them.
    with pytest.raises(ValueError, match=TOKENS + r"Received: tokens=-1$"):
        model.fit(dataset(_with(x, (3, 1), -1), y), verbose=0)
    with pytest.raises(ValueError, match=BINARY + r"Received: y=5$"):
        model.fit(x, y, validation_data=dataset(x, _with(y, 3, 5)), verbose=0)
    assert np.isfinite(model.predict(x, verbose=0)).all()
    assert np.isfinite(model.fit(dataset(x, y), verbose=0).history["loss"][0])


def test_graph_datasets_are_checked_when_consumed():
    tf = _tf()
    model = zoo.build("gcn_graph_classifier", size="toy")
    x, y = _example(model, n=3)
    n = x["node_features"].shape[1]
    bad = {**x, "edge_index": _with(x["edge_index"], (0, 1, 2), n + 4)}
    with pytest.raises(ValueError, match=rf"`edge_index` holds node ids outside \[0, {n}\) "
                                         rf"\(num_nodes={n}\)\. Received: edge_index={n + 4}$"):
        model.fit(tf.data.Dataset.from_tensors((bad, y)), verbose=0)
    with pytest.raises(ValueError, match=r"outside \[-1, 3\) .*Received: y=7$"):
        model.evaluate(tf.data.Dataset.from_tensors((x, _with(y, (0, 0), 7))), verbose=0)
    assert np.isfinite(model.fit(tf.data.Dataset.from_tensors((x, y)),
                                 verbose=0).history["loss"][0])


# --- a loaded model checks what it was built to check -----------------------------------------


def test_a_loaded_model_checks_its_inputs(classifier, tmp_path):
    model, x, _ = classifier
    zoo.save(model, tmp_path / "classifier.keras")
    loaded = zoo.load(tmp_path / "classifier.keras")
    with pytest.raises(ValueError, match=TOKENS + r"Received: tokens=99$"):
        loaded.predict(_with(x, (0, 0), 99), verbose=0)
    with pytest.raises(ValueError, match=BINARY + r"Received: y=5$"):
        loaded.fit(x, np.full((len(x), 1), 5), verbose=0)


def test_check_values_reports_the_offending_value():
    token_ids = ValueRange(0, 20, what="token ids")
    check_values("tokens", np.array([[0, 19]]), token_ids)
    check_values("tokens", np.zeros((0, 3), "int32"), token_ids)
    with pytest.raises(ValueError, match=r"outside \[0, 20\)\. Received: tokens=-4$"):
        check_values("tokens", np.array([3, -4, 25]), token_ids)
    with pytest.raises(ValueError, match=r"Received: tokens=inf$"):
        check_values("tokens", np.array([3.0, np.inf]), token_ids)


# --- generation and training numbers ------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["greedy", "sample", "beam"])
@pytest.mark.parametrize("temperature", [float("inf"), float("nan"), 0.0, -1.0, True])
def test_generation_refuses_temperatures_that_are_not_finite_and_positive(strategy,
                                                                           temperature):
    model = _language_model()
    with pytest.raises(ValueError, match=rf"`temperature` must be a finite number > 0\. "
                                         rf"Received: temperature={temperature!r}$"):
        zoo.generate(model, np.array([[3, 4]]), 3, strategy=strategy, temperature=temperature)


@pytest.mark.parametrize("strategy", ["greedy", "sample"])
@pytest.mark.parametrize("top_k", [0, -2, 1.5, True])
def test_generation_refuses_top_k_that_is_not_a_positive_integer(strategy, top_k):
    with pytest.raises(ValueError, match=rf"`top_k` must be a positive integer\. "
                                         rf"Received: top_k={top_k!r}$"):
        zoo.generate(_language_model(), np.array([[3, 4]]), 3, strategy=strategy, top_k=top_k)


@pytest.mark.parametrize("temperature", [5e-324, 1e-300, 1e300])
def test_extreme_finite_temperatures_never_pick_padding(temperature):
    ids = zoo.generate(_language_model(), np.array([[3, 4], [5, 6]]), 6, strategy="sample",
                       temperature=temperature, seed=0)
    assert (ids > 0).all() and (ids < 12).all()


_LANGUAGE_MODEL = []


def _language_model():
    if not _LANGUAGE_MODEL:
        _LANGUAGE_MODEL.append(zoo.build("lstm_lm", size="toy"))
    return _LANGUAGE_MODEL[0]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_float_arguments_must_be_finite(value):
    shown = repr(value)
    with pytest.raises(ValueError, match=rf"`learning_rate` must be a finite number > 0\. "
                                         rf"Received: learning_rate={shown}$"):
        zoo.build("lstm_lm", size="toy", learning_rate=value)
    with pytest.raises(ValueError, match=rf"must be a finite number >= 0\. "
                                         rf"Received: negative_slope={shown}$"):
        zoo.models.graph.layers.GATConv(4, negative_slope=value)
    with pytest.raises(ValueError, match=rf"must be a finite number\. Received: epsilon={shown}$"):
        zoo.models.graph.layers.GINConv(4, epsilon=value)
    with pytest.raises(ValueError, match=rf"Received: level={shown}$"):
        zoo.layers.CorruptionNoise("gaussian", level=value)
    with pytest.raises(ValueError, match=rf"Received: beta={shown}$"):
        zoo.build("vae", size="toy", beta=value)
    with pytest.raises(ValueError, match=rf"Received: code_l1={shown}$"):
        validation.non_negative_float("code_l1", value)
    assert validation.positive_float("learning_rate", 1e-3) == 1e-3
