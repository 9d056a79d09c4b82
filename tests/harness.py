"""The shared test harness: one layer test and one builder test for the whole zoo.

Modelled on keras-hub's ``TestCase.run_layer_test``. Every layer test and
every family's builder test goes through these two functions, so a new
layer or model gets the same checks as every other one:

``run_layer_test(cls, init_kwargs, input_data, ..., tmp_path=tmp_path)``
    bad constructor arguments raise ``ValueError``/``TypeError`` ending with
    ``Received: ...``; an eager call gives the expected (possibly nested)
    output shape and finite values; ``get_config`` holds every constructor
    argument and ``from_config`` rebuilds a layer that, with the same
    weights, gives the same outputs; every trainable weight gets a non-zero,
    finite gradient on this backend; a functional model around the layer
    survives ``zoo.save``/``zoo.load`` with the same outputs.

``run_builder_test(name, size="toy", overrides=None, tmp_path=tmp_path)``
    ``zoo.build`` plus the spec's ``example_data``: one epoch of ``fit``
    with a finite loss, finite predictions, ``zoo.encoder``, a
    ``zoo.save``/``zoo.load`` round trip, and every capability the spec
    declares (``generation``, ``variational``, ``decodable``, ``denoising``).

Both return what they built, so a test can add its own checks.
"""

import dataclasses
import inspect
import re

import keras
import numpy as np

import zoo

ATOL = 1e-5
_RECEIVED = re.compile(r"Received: \S.*\Z", re.DOTALL)


# ------------------------------------------------------------------ helpers

def rotated(cases, offset=0):
    """The share of ``cases`` this backend runs when each case needs only one backend.

    Long learning tests cost minutes per backend. CI runs the suite once per
    backend, so case ``i`` runs on backend ``(i + offset) % 3`` only: every
    case runs once per CI run, on a backend that moves with ``offset``. Set
    ``ZOO_ALL_BACKENDS=1`` to run every case on every backend.
    """
    import os

    from zoo.constants import BACKENDS

    cases = list(cases)
    if os.environ.get("ZOO_ALL_BACKENDS") == "1":
        return cases
    here = BACKENDS.index(keras.backend.backend())
    return [case for i, case in enumerate(cases) if (i + offset) % len(BACKENDS) == here]


def to_numpy(tree):
    """``tree`` (tensor, list, tuple or dict of tensors) with NumPy leaves."""
    return keras.tree.map_structure(keras.ops.convert_to_numpy, tree)


def _leaves(tree):
    return [np.asarray(leaf) for leaf in keras.tree.flatten(to_numpy(tree))]


def assert_all_close(actual, expected, atol=ATOL, what="outputs"):
    """Same structure and values (within ``atol``) for two output trees."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    keras.tree.assert_same_structure(actual, expected)
    for got, want in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
        np.testing.assert_allclose(np.asarray(got, "float64") if np.asarray(got).dtype != bool
                                   else got, want, atol=atol, err_msg=what)


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(
        item is None or isinstance(item, int) for item in value)


def assert_output_shape(outputs, expected):
    """``expected`` is a shape tuple, or a list/dict of them matching ``outputs``."""
    if expected is None:
        return
    if _is_shape(expected):
        assert tuple(keras.ops.shape(outputs)) == tuple(expected), (
            f"output shape {tuple(keras.ops.shape(outputs))} != expected {tuple(expected)}")
        return
    if isinstance(expected, dict):
        assert isinstance(outputs, dict) and set(outputs) == set(expected), (
            f"output keys {sorted(outputs) if isinstance(outputs, dict) else type(outputs)} "
            f"!= expected {sorted(expected)}")
        for key, shape in expected.items():
            assert_output_shape(outputs[key], shape)
        return
    assert isinstance(outputs, (list, tuple)) and len(outputs) == len(expected), (
        f"expected {len(expected)} outputs, got {type(outputs).__name__}")
    for output, shape in zip(outputs, expected):
        assert_output_shape(output, shape)


def assert_finite(tree, what="outputs"):
    for leaf in _leaves(tree):
        if np.issubdtype(leaf.dtype, np.floating):
            assert np.isfinite(leaf).all(), f"{what} hold non-finite values"


def assert_error_ends_with_received(error):
    """An argument error's message ends with ``Received: name=value``."""
    message = str(error)
    assert _RECEIVED.search(message), (
        f"error message does not end with 'Received: ...': {message!r}")


def _float_leaves(tree):
    return [leaf for leaf in keras.tree.flatten(tree)
            if "float" in str(keras.backend.standardize_dtype(leaf.dtype))]


def _projection(outputs, seed=0):
    """Fixed random weights, one array per float output: the gradient's scalar.

    A plain sum would hide weights whose effect sums to zero (a layer
    norm's scale, for example), a random projection does not.
    """
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(keras.ops.shape(leaf))).astype("float32")
            for leaf in _float_leaves(outputs)]


def _scalar(outputs, projection):
    total = 0.0
    for leaf, weights in zip(_float_leaves(outputs), projection):
        total = total + keras.ops.sum(keras.ops.multiply(
            keras.ops.cast(leaf, "float32"), keras.ops.convert_to_tensor(weights)))
    return total


def gradients(layer, args, kwargs, projection):
    """Gradients of ``sum(projection * layer(*args, **kwargs))`` w.r.t. its trainable weights.

    One small backend-neutral helper: ``jax.grad`` over ``stateless_call``,
    ``tf.GradientTape`` or torch autograd, by ``keras.backend.backend()``.
    Returns NumPy arrays in ``layer.trainable_weights`` order.
    """
    backend = keras.backend.backend()
    weights = layer.trainable_weights
    if backend == "jax":
        import jax

        trainable = [w.value for w in layer.trainable_variables]
        non_trainable = [w.value for w in layer.non_trainable_variables]

        def loss(values):
            outputs, _ = layer.stateless_call(values, non_trainable, *args, **kwargs)
            return _scalar(outputs, projection)

        # trainable_variables and trainable_weights hold the same variables.
        return [np.asarray(g) for g in jax.grad(loss)(trainable)]
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = _scalar(layer(*args, **kwargs), projection)
        grads = tape.gradient(loss, weights)
        return [np.zeros(w.shape, "float32") if g is None else np.asarray(g) for w, g in
                zip(weights, grads)]
    if backend == "torch":
        for w in weights:
            w.value.grad = None
        loss = _scalar(layer(*args, **kwargs), projection)
        loss.backward()
        grads = [w.value.grad for w in weights]
        return [np.zeros(w.shape, "float32") if g is None else g.detach().cpu().numpy()
                for w, g in zip(weights, grads)]
    raise AssertionError(f"no gradient helper for backend {backend!r}")


def _is_array(value):
    return isinstance(value, np.ndarray) or keras.ops.is_tensor(value)


def _symbolic(name, value):
    value = np.asarray(keras.ops.convert_to_numpy(value))
    return keras.Input(shape=value.shape[1:], dtype=str(value.dtype), name=name)


def _wrap(layer, input_data, call_kwargs):
    """A functional model around ``layer`` and the dict of arrays it is called with.

    Every array (the inputs and array-valued call arguments such as masks
    or a context) becomes a named ``keras.Input`` of the same shape and dtype.
    """
    feed, symbols = {}, {}

    def symbol(name, value):
        feed[name] = np.asarray(keras.ops.convert_to_numpy(value))
        symbols[name] = _symbolic(name, value)
        return symbols[name]

    if isinstance(input_data, dict):
        args = {key: symbol(key, value) for key, value in input_data.items()}
    elif isinstance(input_data, (list, tuple)):
        args = [symbol(f"input_{i}", value) for i, value in enumerate(input_data)]
    else:
        args = symbol("input", input_data)
    kwargs = {key: symbol(f"call_{key}", value) if _is_array(value) else value
              for key, value in call_kwargs.items()}
    model = keras.Model(symbols, layer(args, **kwargs), name=f"{layer.name}_model")
    return model, feed


# ------------------------------------------------------------- layer test

@dataclasses.dataclass
class LayerTestResult:
    """What ``run_layer_test`` built, for extra checks."""

    layer: keras.layers.Layer
    outputs: object
    model: keras.Model
    loaded: keras.Model


def run_layer_test(cls, init_kwargs, input_data, expected_output_shape=None,
                   bad_init_kwargs=(), call_kwargs=None, expect_trainable=True,
                   allow_zero_gradient=(), *, tmp_path):
    """Run the standard checks on the layer class ``cls``.

    Args:
        cls: the layer class.
        init_kwargs: constructor arguments of a valid layer.
        input_data: a NumPy array, a list of arrays or a dict of arrays
            (batch first), passed as the first call argument.
        expected_output_shape: shape tuple of the output, or a list/dict of
            them for nested outputs; ``None`` skips the shape check.
        bad_init_kwargs: dicts merged over ``init_kwargs`` that must each
            raise ``ValueError`` or ``TypeError`` from the constructor, with
            a message ending in ``Received: ...``.
        call_kwargs: extra call arguments; arrays among them (masks,
            context) become inputs of the saved model. ``training`` is used
            for the eager call and the gradient, dropped for the
            comparisons (they run at inference).
        expect_trainable: the layer has trainable weights and each gets a
            non-zero finite gradient (``False``: it has none).
        allow_zero_gradient: substrings of weight paths allowed a zero
            gradient (e.g. an attention key bias, which softmax ignores).
        tmp_path: a directory (pytest's ``tmp_path``) for the ``.keras`` file.

    Returns:
        A ``LayerTestResult``.
    """
    call_kwargs = dict(call_kwargs or {})
    inference_kwargs = {k: v for k, v in call_kwargs.items() if k != "training"}

    for bad in bad_init_kwargs:
        arguments = {**init_kwargs, **bad}
        try:
            cls(**arguments)
        except (ValueError, TypeError) as error:
            assert_error_ends_with_received(error)
        else:
            raise AssertionError(f"{cls.__name__}(**{arguments!r}) raised no error")

    layer = cls(**init_kwargs)
    outputs = layer(input_data, **call_kwargs)
    assert_output_shape(outputs, expected_output_shape)
    assert_finite(outputs)

    # get_config holds every constructor argument and rebuilds the same layer.
    config = layer.get_config()
    arguments = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    missing = [name for name in arguments if name not in config]
    assert not missing, f"get_config() lacks constructor argument(s) {missing}"
    for name, value in init_kwargs.items():
        assert zoo.to_jsonable(config[name]) == zoo.to_jsonable(value), (
            f"get_config()[{name!r}] = {config[name]!r}, constructed with {value!r}")
    clone = cls.from_config(config)
    assert clone.get_config() == config
    clone(input_data, **inference_kwargs)
    clone.set_weights(layer.get_weights())
    assert_all_close(clone(input_data, **inference_kwargs),
                     layer(input_data, **inference_kwargs), what="from_config outputs")

    # Gradients reach every trainable weight.
    if expect_trainable:
        assert layer.trainable_weights, f"{cls.__name__} has no trainable weights"
        projection = _projection(outputs)
        assert projection, f"{cls.__name__} has no float output to differentiate"
        grads = gradients(layer, (input_data,), call_kwargs, projection)
        for weight, grad in zip(layer.trainable_weights, grads):
            assert np.isfinite(grad).all(), f"non-finite gradient for {weight.path}"
        unreached = [w.path for w, g in zip(layer.trainable_weights, grads)
                     if not np.any(g) and not any(s in w.path for s in allow_zero_gradient)]
        assert not unreached, f"no gradient reached {unreached}"
    else:
        assert not layer.trainable_weights, (
            f"{cls.__name__} has trainable weights {[w.path for w in layer.trainable_weights]}")

    # A functional model around the layer survives zoo.save / zoo.load.
    model, feed = _wrap(cls.from_config(config), input_data, inference_kwargs)
    model.set_weights(layer.get_weights())
    expected = model(feed)
    path = tmp_path / f"{layer.name}.keras"
    zoo.save(model, path)
    loaded = zoo.load(path, compile=False)
    assert_all_close(loaded(feed), expected, what=".keras round-trip outputs")
    assert_all_close(expected, layer(input_data, **inference_kwargs), what="wrapped outputs")
    return LayerTestResult(layer=layer, outputs=outputs, model=model, loaded=loaded)


# ----------------------------------------------------------- builder test

@dataclasses.dataclass
class BuilderTestResult:
    """What ``run_builder_test`` built, for extra checks."""

    spec: object
    params: dict
    model: keras.Model
    x: object
    y: object
    predictions: object
    loaded: keras.Model


def batch_size_of(y):
    """Rows in a batch of targets (graph models hold a whole batch in one row)."""
    return int(len(keras.tree.flatten(y)[0]))


def select_inputs(sub_model, x):
    """The part of ``x`` a sub-model (``zoo.encoder(model)``, ...) takes."""
    if not isinstance(x, dict):
        return x
    names = [tensor.name for tensor in sub_model.inputs]
    return x[names[0]] if len(names) == 1 else {name: x[name] for name in names}


def _generation_inputs(spec, x):
    first = x[next(iter(spec.inputs))] if isinstance(x, dict) else x
    first = np.asarray(first)
    if spec.capabilities.generation == "language_model":
        return first[:, :1]  # a prompt: example rows start with a real token
    return first


def run_builder_test(name, size="toy", overrides=None, n=4, seed=0,
                     expected_output_shape=None, *, tmp_path):
    """Build ``name`` and check training, prediction, encoder, saving and capabilities.

    Args:
        name: a registry name.
        size: the size preset to build (``"toy"`` by default).
        overrides: parameters over the size preset.
        n: examples drawn from ``spec.example_data``.
        seed: seed of the example data.
        expected_output_shape: shape of the predictions, if the test knows
            it (``None``: only the batch size is checked).
        tmp_path: a directory (pytest's ``tmp_path``) for the ``.keras`` file.

    Returns:
        A ``BuilderTestResult``.
    """
    overrides = dict(overrides or {})
    spec = zoo.get_spec(name)
    params = {**spec.defaults, **spec.size(size), **overrides}
    model = zoo.build(name, size=size, **overrides)
    assert model.zoo_name == name
    x, y = spec.example_data(params, n, seed)
    batch = batch_size_of(y)

    history = model.fit(x, y, epochs=1, batch_size=batch, verbose=0)
    loss = history.history["loss"][-1]
    assert np.isfinite(loss), f"{name}: training loss is {loss}"

    predictions = model.predict(x, batch_size=batch, verbose=0)
    assert_finite(predictions, f"{name} predictions")
    for leaf in _leaves(predictions):
        assert leaf.shape[0] == batch, f"{name}: prediction batch {leaf.shape[0]} != {batch}"
    assert_output_shape(predictions, expected_output_shape)

    encoder = zoo.encoder(model)
    codes = encoder.predict(select_inputs(encoder, x), batch_size=batch, verbose=0)
    assert _leaves(codes) and all(leaf.size for leaf in _leaves(codes)), f"{name}: empty codes"
    assert_finite(codes, f"{name} codes")

    path = tmp_path / f"{name}.keras"
    zoo.save(model, path)
    loaded = zoo.load(path)
    assert isinstance(loaded, zoo.ZooModel) and loaded.zoo_name == name
    assert zoo.spec_of(loaded) is spec
    assert_all_close(loaded.predict(x, batch_size=batch, verbose=0), predictions,
                     what=f"{name} after zoo.save/zoo.load")
    # It comes back compiled, with the same loss and the optimizer's progress.
    assert loaded.compiled, f"{name} was not compiled after zoo.load"
    assert (keras.saving.serialize_keras_object(loaded.loss)
            == keras.saving.serialize_keras_object(model.loss)), f"{name}: loss changed"
    assert (int(keras.ops.convert_to_numpy(loaded.optimizer.iterations))
            == int(keras.ops.convert_to_numpy(model.optimizer.iterations)) > 0), \
        f"{name}: the optimizer's step count was not restored"

    check_capabilities(spec, model, x, params)
    return BuilderTestResult(spec=spec, params=params, model=model, x=x, y=y,
                             predictions=predictions, loaded=loaded)


def check_capabilities(spec, model, x, params):
    """Every capability ``spec`` declares holds for ``model`` on the examples ``x``."""
    capabilities = spec.capabilities
    if capabilities.generation:
        inputs = _generation_inputs(spec, x)
        ids = zoo.generate(model, inputs, max_length=3)
        assert ids.shape == (len(inputs), 3), f"{spec.name}: generated shape {ids.shape}"
        assert np.issubdtype(ids.dtype, np.integer)
        vocab = params.get("target_vocab_size", params.get("vocab_size"))
        assert ids.min() >= 0 and (vocab is None or ids.max() < vocab)
    if capabilities.variational:
        samples = zoo.sample(model, 2, seed=0)
        assert samples.shape == (2, *model.outputs[0].shape[1:])
        assert np.isfinite(samples).all()
        np.testing.assert_allclose(zoo.sample(model, 2, seed=0), samples, atol=ATOL)
    if capabilities.decodable:
        decoder = zoo.decoder(model)
        code_shape = tuple(decoder.inputs[0].shape[1:])
        codes = np.random.default_rng(0).standard_normal((2, *code_shape)).astype("float32")
        decoded = to_numpy(decoder(codes))
        assert decoded.shape == (2, *model.outputs[0].shape[1:])
        assert np.isfinite(decoded).all()
    if capabilities.denoising:
        clean = _leaves(model(x, training=False))
        noisy = _leaves(model(x, training=True))
        assert any(not np.allclose(a, b) for a, b in zip(clean, noisy)), (
            f"{spec.name}: declared denoising but training=True changes nothing")


# --- registry ----------------------------------------------------------------------------------


def register_renamed_copy(original, renamed):
    """Register a copy of ``original``'s builder, another function, under ``renamed``.

    The copy has the same signature, defaults and spec fields but another
    ``__name__``: whatever works for ``original`` must work for ``renamed``
    unless some code dispatches on names. Remove it with
    ``zoo.unregister_model(renamed)``.
    """
    spec = zoo.get_spec(original)
    builder = spec.builder

    def copied_builder(**params):
        return builder(**params)

    signature = inspect.signature(builder)
    copied_builder.__signature__ = signature.replace(parameters=[
        param.replace(default=spec.defaults[param.name])
        for param in signature.parameters.values()])
    copied_builder.__doc__ = builder.__doc__
    assert copied_builder.__name__ != builder.__name__
    zoo.register_model(
        renamed, family=spec.family, task=spec.task, inputs=spec.inputs,
        outputs=spec.outputs, description=spec.description, citation=spec.citation,
        compiler=spec.compiler, capabilities=spec.capabilities, sizes=spec.sizes,
        search_space=spec.search_space, example_data=spec.example_data,
    )(copied_builder)
    return spec
