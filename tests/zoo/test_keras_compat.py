"""Each private Keras API the zoo uses still behaves as zoo.keras_compat assumes.

When a Keras upgrade breaks one, the failing test here names it.
"""

import importlib

import keras
import numpy as np

from zoo import keras_compat


def _model():
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    noisy = keras.layers.Dropout(0.5, seed=1, name="drop")(hidden)
    outputs = keras.layers.Dense(2, name="out")(noisy)
    return keras.Model(inputs, outputs), inputs, hidden, outputs


def test_seed_generators_finds_a_dropout_generator():
    model, *_ = _model()
    generators = keras_compat.seed_generators(model.get_layer("drop"))
    assert len(generators) == 1 and isinstance(generators[0], keras.random.SeedGenerator)
    assert keras_compat.seed_generators(model.get_layer("hidden")) == []


def test_sublayers_lists_every_layer_once():
    model, *_ = _model()
    names = [layer.name for layer in keras_compat.sublayers(model, include_self=False)]
    assert {"hidden", "drop", "out"} <= set(names)
    assert len(names) == len(set(names))
    assert keras_compat.sublayers(model)[0] is model


def test_own_variables_are_kernel_then_bias():
    model, *_ = _model()
    layer = model.get_layer("hidden")
    assert [v.path for v in keras_compat.own_variables(layer)] == [
        v.path for v in (layer.kernel, layer.bias)]
    assert keras_compat.own_variables(model) == []  # a model owns none itself


def test_check_load_own_variables_raises_for_a_wrong_store():
    model, *_ = _model()
    layer = model.get_layer("hidden")
    try:
        keras_compat.check_load_own_variables(layer, {"0": np.zeros((4, 3))})
    except ValueError as error:
        assert "hidden" in str(error)
    else:
        raise AssertionError("a store with one of two variables was accepted")


def test_input_tensors_of_walks_back_one_operation():
    model, inputs, hidden, outputs = _model()
    assert keras_compat.input_tensors_of(hidden) == [inputs]
    assert keras_compat.input_tensors_of(inputs) == [inputs]


def test_keras_operation_classes():
    # A functional model's config names the ops it applies by their module.
    inputs = keras.Input((1,))
    config = keras.Model(inputs, keras.ops.add(inputs, 1.0)).get_config()
    op = next(layer for layer in config["layers"] if layer["class_name"] != "InputLayer")
    assert op["module"].startswith(keras_compat.OPS_MODULE_PREFIX)
    op_class = getattr(importlib.import_module(op["module"]), op["class_name"])
    assert keras_compat.is_keras_operation_class(op_class)
    assert not keras_compat.is_keras_operation_class(keras.layers.Dense)
    assert not keras_compat.is_keras_operation_class("Add")


def test_the_symbolic_build_hooks_the_distributed_build_replaces_exist():
    # symbolic_build_from_first_replica overrides TensorFlow's _maybe_symbolic_build and
    # calls _symbolic_build (tests/zoo/test_distribution.py runs it on two replicas).
    assert callable(getattr(keras.Model, "_symbolic_build", None))
    if keras.backend.backend() == "tensorflow":
        from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

        assert callable(getattr(TensorFlowTrainer, "_maybe_symbolic_build", None))
