"""``zoo.transfer``: ``with_head`` and ``features`` on every registered model, at toy size."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import to_numpy
from zoo.transfer import features, with_head

NAMES = zoo.list_models()
# What with_head and features take: every model with one encoder representation.
SUPPORTED = [name for name in NAMES if zoo.get_spec(name).capabilities.generation is None]
REFUSED = [name for name in NAMES if name not in SUPPORTED]


def _one_per_kind(names):
    """One model per family, task, input kind and variational flag: the head training
    and save/load round trip run on these (``features`` runs on every model)."""
    seen, chosen = set(), []
    for name in names:
        spec = zoo.get_spec(name)
        key = (spec.family, spec.task, spec.capabilities.input_kinds[0],
               spec.capabilities.variational, spec.capabilities.denoising)
        if key not in seen:
            seen.add(key)
            chosen.append(name)
    return chosen


HEAD_MODELS = _one_per_kind(SUPPORTED)
N = 4
NUM_CLASSES = 3


def _toy(name):
    spec = zoo.get_spec(name)
    model = zoo.build(name, **spec.toy)
    x, _ = spec.example_data(model.zoo_config, N, seed=0)
    return model, x


def _labels(head, x, seed=1):
    """Random labels for the new head (tags 1..3 and 0 at padding for a per-token head)."""
    rng = np.random.default_rng(seed)
    kind = head.zoo_config["head"]
    if kind == "per_token":
        return np.where(x == 0, 0, rng.integers(1, NUM_CLASSES + 1, size=x.shape)).astype("int32")
    labels = rng.integers(0, NUM_CLASSES, size=N).astype("int32")
    return labels if kind == "per_sample" else labels[None]


def _expected_shape(head, x):
    kind = head.zoo_config["head"]
    if kind == "per_token":
        return (N, x.shape[1], NUM_CLASSES + 1)
    return (N, NUM_CLASSES) if kind == "per_sample" else (1, N, NUM_CLASSES)


def _weights(layers):
    return [np.array(keras.ops.convert_to_numpy(w)) for layer in layers for w in layer.weights]


def _changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("name", HEAD_MODELS)
def test_with_head_trains_freezes_and_round_trips(name, tmp_path):
    model, x = _toy(name)
    original = _weights(model.layers)
    code = to_numpy(zoo.encoder(model)(_encoder_inputs(model, x)))
    frozen = with_head(model, NUM_CLASSES, dropout=0.25, name="transfer")
    tuned = with_head(model, NUM_CLASSES, freeze_encoder=False)
    outputs = {}
    for head, freeze in ((frozen, True), (tuned, False)):
        assert isinstance(head, zoo.ZooModel) and head.compiled
        assert head.zoo_name is None and head.zoo_config["base_name"] == name
        assert head.zoo_config["freeze_encoder"] is freeze
        encoder_layers = [layer for layer in zoo.encoder(head).layers if layer.weights]
        assert encoder_layers and all(layer.trainable is not freeze for layer in encoder_layers)
        if freeze:  # a copy of the model's encoder: the same code to start with
            np.testing.assert_allclose(to_numpy(zoo.encoder(head)(_encoder_inputs(head, x))),
                                       code, atol=1e-5)
        encoder_before = _weights(encoder_layers)
        head_layers = [layer for layer in head.layers if layer not in encoder_layers]
        head_before = _weights(head_layers)
        head.train_on_batch(x, _labels(head, x))
        assert _changed(_weights(encoder_layers), encoder_before) is not freeze
        assert _changed(_weights(head_layers), head_before)
        outputs[freeze] = output = to_numpy(head(x))
        assert output.shape == _expected_shape(head, x) and np.isfinite(output).all()
    # The original model is left as it was: weights and trainable flags.
    assert not _changed(_weights(model.layers), original)
    assert all(layer.trainable for layer in model.layers)
    with pytest.raises(ValueError, match="names no registered zoo model"):
        zoo.spec_of(frozen)
    path = tmp_path / "head.keras"
    zoo.save(frozen, path)
    loaded = zoo.load(path)
    assert loaded.name == "transfer" and type(loaded) is type(frozen)
    assert loaded.zoo_config == zoo.to_jsonable(frozen.zoo_config)
    assert [layer.trainable for layer in loaded.layers if layer.weights] == [
        layer.trainable for layer in frozen.layers if layer.weights]
    # Composite layers (Transformer blocks, GIN MLPs) stay frozen too: only the head trains.
    assert [v.path for v in loaded.trainable_weights] == [
        v.path for v in frozen.trainable_weights]
    np.testing.assert_allclose(to_numpy(loaded(x)), outputs[True], atol=1e-5)


def _encoder_inputs(model, x):
    """``x`` restricted to what the model's encoder takes (graph batches hold more)."""
    if not isinstance(x, dict):
        return x
    names = [tensor.name for tensor in zoo.encoder(model).inputs]
    return {key: x[key] for key in names} if len(names) > 1 else x[names[0]]


@pytest.mark.parametrize("name", REFUSED)
def test_models_without_one_representation_are_refused(name):
    model, _ = _toy(name)
    match = rf"generates .*Received: model='{name}'"
    with pytest.raises(ValueError, match=match):
        with_head(model, NUM_CLASSES)
    with pytest.raises(ValueError, match=match):
        features(model)


@pytest.mark.parametrize("num_classes", [1, 0, 2.0, True, "3", None])
def test_bad_num_classes(num_classes):
    model = zoo.build("dense_autoencoder", size="toy")
    with pytest.raises(ValueError, match=rf"num_classes.*Received: num_classes={num_classes!r}"):
        with_head(model, num_classes)


@pytest.mark.parametrize("arguments, match", [
    ({"dropout": 1.0}, "Received: dropout=1.0"),
    ({"freeze_encoder": 1}, "Received: freeze_encoder=1"),
    ({"name": 3}, "Received: name=3"),
])
def test_bad_arguments(arguments, match):
    with pytest.raises(ValueError, match=match):
        with_head(zoo.build("dense_autoencoder", size="toy"), NUM_CLASSES, **arguments)


def test_model_without_code_is_refused():
    inputs = keras.Input((3,), name="features")
    plain = keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs), name="plain")
    for function in (with_head, features):
        with pytest.raises(ValueError, match="has none. Received: model='plain'"):
            function(plain, NUM_CLASSES) if function is with_head else function(plain)


def test_two_classes_get_one_sigmoid_unit_and_binary_crossentropy():
    head = with_head(zoo.build("lstm_classifier", size="toy"), 2)
    assert head.output_shape == (None, 1)
    assert isinstance(head.loss, keras.losses.BinaryCrossentropy)
    x, y = zoo.get_spec("lstm_classifier").example_data(head.zoo_config["base_config"], N, 0)
    head.train_on_batch(x, y)


@pytest.mark.parametrize("name", zoo.list_models(family="classifier", task="classification"))
def test_code_is_what_feeds_the_classifier_head(name):
    """For classifiers the code is the penultimate tensor: the input of the output Dense."""
    model, _ = _toy(name)
    last_dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]
    assert last_dense.output is model.outputs[0]
    feeding = last_dense.input
    while isinstance(feeding._keras_history.operation, keras.layers.Dropout):
        feeding = feeding._keras_history.operation.input
    assert feeding is zoo.encoder(model).outputs[0]


@pytest.mark.parametrize("name", SUPPORTED)
def test_features(name):
    model, x = _toy(name)
    feature_model = features(model)
    keys = list(feature_model.output)
    assert keys == list(features(model).output)  # stable
    assert keys[-1] == "code" and len(keys) == len(set(keys))
    values = to_numpy(feature_model(x))
    assert list(values) == keys
    rows = {N}
    if isinstance(x, dict):
        rows.add(x["node_features"].shape[1])
    for key, value in values.items():
        assert value.shape[0] in rows, (key, value.shape)
        assert np.isfinite(value).all(), key
    np.testing.assert_allclose(values["code"],
                               to_numpy(zoo.encoder(model)(_encoder_inputs(model, x))),
                               atol=1e-5)
