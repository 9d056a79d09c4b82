"""Registry-driven checks: every registered model, at toy size, on this backend.

A model is covered the moment it is registered: build it with its spec's
``toy`` overrides and its ``example_data``, then check shapes, finiteness,
a gradient for every weight and the config round trip. The ``.keras``
round trip of every registered model runs in ``test_sharing.py`` (across
backends) and, with training and capabilities, in each family's
``run_builder_test``.
"""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import to_numpy

NAMES = zoo.list_models()
BATCH = 5


def _toy(name):
    spec = zoo.get_spec(name)
    model = zoo.build(name, **spec.toy)
    x, y = spec.example_data(model.zoo_config, BATCH, seed=0)
    return spec, model, x, y


def expected_output_shape(spec, params, y):
    """Output shape each task promises, from the example targets."""
    if spec.task == "reconstruction":
        return y.shape
    if spec.task == "sequence_to_sequence":
        return y.shape + (params["target_vocab_size"],)
    if spec.task == "language_modeling":
        return y.shape + (params["vocab_size"],)
    if spec.task == "classification":
        return (len(y), 1 if params["num_classes"] == 2 else params["num_classes"])
    if spec.task == "tagging":
        return y.shape + (params["num_tags"] + 1,)
    if spec.task in ("node_classification", "graph_classification"):
        return y.shape + (params["num_classes"],)
    if spec.task == "link_prediction":
        return y.shape
    raise AssertionError(f"add an output-shape rule for task {spec.task!r}")


def test_registry_is_not_empty():
    assert {"dense_autoencoder", "lstm_seq2seq"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_forward_shape_and_finite(name):
    spec, model, x, y = _toy(name)
    out = to_numpy(model(x, training=False))
    assert out.shape == expected_output_shape(spec, model.zoo_config, y)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_every_trainable_weight_gets_a_gradient(name):
    # Adam moves a weight iff its gradient is non-zero (its first step is
    # lr * sign(g)), so one step is a backend-neutral gradient check.
    _, model, x, y = _toy(name)
    before = [np.array(w) for w in _numpy_weights(model)]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"])
    after = _numpy_weights(model)
    frozen = [w.path for w, b, a in zip(model.trainable_weights, before, after)
              if np.array_equal(b, a)]
    assert not frozen, f"no gradient reached: {frozen}"
    assert all(np.isfinite(a).all() for a in after)


def _numpy_weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]


@pytest.mark.parametrize("name", NAMES)
def test_get_config_round_trip(name):
    _, model, x, _ = _toy(name)
    clone = type(model).from_config(model.get_config())
    assert type(clone) is type(model)
    assert clone.zoo_name == model.zoo_name
    assert clone.zoo_config == zoo.to_jsonable(model.zoo_config)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(model(x)), atol=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if zoo.get_spec(n).search_space])
def test_search_space_builds(name):
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    overrides = zoo.get_spec(name).search_space(hp)
    assert overrides and set(overrides) <= set(zoo.get_spec(name).defaults)
    model = zoo.build(name, **overrides)
    assert model.count_params() > 0
