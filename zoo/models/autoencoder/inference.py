"""Working with trained autoencoders: the decoder, VAE samples, anomaly scores, interpolation.

``decoder(model)`` is the counterpart of ``zoo.encoder(model)``: the
sub-model from the code (for VAEs: the latent ``z``) to the reconstruction,
sharing weights with ``model``. ``sample`` decodes ``z ~ N(0, I)``;
``reconstruction_error`` scores each sample by how badly it is rebuilt;
``interpolate`` decodes the way from one example's code to another's;
``log_likelihood`` estimates a VAE's log p(x) by importance sampling.

For zoo models these read what the registry declares
(``Capabilities.decodable`` / ``.variational``) and enter the decoder at
the layer the builders name (``CODE_LAYER_NAME``, or
``SAMPLING_LAYER_NAME`` for VAEs).
"""

import weakref

import keras
import numpy as np

from zoo import registry, validation
from zoo.model import CODE_LAYER_NAME, code_layers, sub_model
from zoo.models.autoencoder.vae import (LOG_VARIANCE_LAYER_NAME, SAMPLING_LAYER_NAME,
                                        VariationalAutoencoder)

# VAE -> its decoder, so repeated sampling reuses one model and its predict function.
_SAMPLERS = weakref.WeakKeyDictionary()


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")


def _capabilities(model):
    """The declared capabilities of a zoo model, or ``None`` for any other model."""
    try:
        return registry.spec_of(model).capabilities
    except ValueError:
        return None


def _variational_models():
    return ", ".join(repr(name) for name in registry.list_models(family="autoencoder")
                     if registry.get_spec(name).capabilities.variational)


def _entry_layer(model):
    """The layer whose output the decoder starts from."""
    capabilities = _capabilities(model)
    if capabilities is not None:
        if capabilities.decodable and len(model.outputs) == 1:
            return model.get_layer(SAMPLING_LAYER_NAME if capabilities.variational
                                   else CODE_LAYER_NAME)
    elif isinstance(model, VariationalAutoencoder) and any(
            layer.name == SAMPLING_LAYER_NAME for layer in model.layers):
        return model.get_layer(SAMPLING_LAYER_NAME)
    else:
        found = code_layers(model)
        if len(found) == 1 and len(model.outputs) == 1:
            return found[0]
    raise ValueError(
        "decoder() needs an autoencoder with one layer named 'code' and one output, "
        "such as those zoo.build() makes for the autoencoder family. "
        f"Received: model={model.name!r}")


def decoder(model):
    """The sub-model from the code to the reconstruction (for VAEs: from ``z``).

    Weights are shared with ``model``. Its input is named ``code`` and has
    the code's shape; for a VAE it decodes any latent vector (at inference
    the VAE itself decodes the posterior mean).

    Raises:
        ValueError: ``model`` is not decodable (a zoo model whose spec does
            not declare it, or another model without a single ``code``
            layer feeding a single output).

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> zoo.decoder(model).output_shape
    (None, 4)
    """
    _check_model(model)
    entry = _entry_layer(model)
    inner = keras.Model(entry.output, model.outputs[0], name=f"{model.name}_decoder_graph")
    code = keras.Input(tuple(entry.output.shape[1:]), name="code")
    return keras.Model(code, inner(code), name=f"{model.name}_decoder")


def sample(model, n, seed=None):
    """``n`` new samples from a VAE: decode ``z ~ N(0, I)`` drawn with ``seed``.

    Returns:
        A float32 NumPy array ``[n, *data_shape]``; the same ``seed`` gives
        the same samples.

    >>> import zoo
    >>> model = zoo.build("conv_vae", size="toy")
    >>> zoo.sample(model, 3, seed=0).shape
    (3, 4, 4, 2)
    """
    _check_model(model)
    capabilities = _capabilities(model)
    variational = (capabilities.variational if capabilities is not None
                   else isinstance(model, VariationalAutoencoder))
    if not variational:
        raise ValueError("sample() needs a variational autoencoder (registered: "
                         f"{_variational_models()}). "
                         f"Received: model={model.name!r}")
    n = validation.positive_int("n", n)
    seed = validation.seed("seed", seed)
    if model not in _SAMPLERS:
        _SAMPLERS[model] = decoder(model)
    net = _SAMPLERS[model]
    latent = np.random.default_rng(seed).standard_normal((n, *net.inputs[0].shape[1:]))
    return np.asarray(net.predict(latent.astype("float32"), verbose=0), dtype="float32")


def reconstruction_error(model, x, metric="mse", batch_size=256):
    """One anomaly score per sample: the mean ``metric`` between ``x`` and its reconstruction.

    Args:
        model: an autoencoder (its output has the shape of its input).
        x: array ``[n, *input_shape]``.
        metric: ``mse`` (squared error) or ``mae`` (absolute error),
            averaged over every axis but the first.
        batch_size: samples per prediction batch.

    Returns:
        A float32 NumPy array ``[n]``; larger = reconstructed worse.

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> zoo.reconstruction_error(model, np.zeros((5, 4))).shape
    (5,)
    """
    _check_model(model)
    validation.choice("metric", metric, ("mse", "mae"))
    batch_size = validation.positive_int("batch_size", batch_size)
    if len(model.inputs) != 1 or len(model.outputs) != 1 or (
            tuple(model.inputs[0].shape[1:]) != tuple(model.outputs[0].shape[1:])):
        raise ValueError("reconstruction_error() needs an autoencoder: one input and one "
                         "output of the same shape. Received: model=" + repr(model.name))
    x = np.asarray(x, dtype="float32")
    expected = tuple(model.inputs[0].shape[1:])
    if x.ndim != len(expected) + 1 or any(
            want is not None and got != want for got, want in zip(x.shape[1:], expected)):
        raise ValueError(f"`x` must have shape [n, {', '.join(map(str, expected))}] to match "
                         f"the model's input. Received: x with shape {x.shape}")
    difference = np.asarray(model.predict(x, batch_size=batch_size, verbose=0)) - x
    error = np.square(difference) if metric == "mse" else np.abs(difference)
    return error.reshape(len(x), -1).mean(axis=1).astype("float32")


def _examples(name, value, expected):
    """``value`` as float32 ``[n, *expected]`` and whether it was one example."""
    array = np.asarray(value, dtype="float32")
    single = array.ndim == len(expected)
    if single:
        array = array[None]
    if array.ndim != len(expected) + 1 or any(
            want is not None and got != want for got, want in zip(array.shape[1:], expected)):
        shape = ", ".join("None" if size is None else str(size) for size in expected)
        raise ValueError(f"`{name}` must be one example [{shape}] or a batch [n, {shape}] of "
                         f"the model's input. Received: {name} with shape {np.shape(value)}")
    return array, single


def _slerp(start, end, t):
    """Spherical interpolation between rows of ``start`` and ``end`` (flattened codes)."""
    unit_start = start / np.maximum(np.linalg.norm(start, axis=1, keepdims=True), 1e-12)
    unit_end = end / np.maximum(np.linalg.norm(end, axis=1, keepdims=True), 1e-12)
    omega = np.arccos(np.clip(np.sum(unit_start * unit_end, axis=1, keepdims=True), -1.0, 1.0))
    sine = np.sin(omega)
    # Nearly parallel codes: the straight line is the same path.
    safe = np.where(sine < 1e-6, 1.0, sine)
    weight_start = np.where(sine < 1e-6, 1.0 - t, np.sin((1.0 - t) * omega) / safe)
    weight_end = np.where(sine < 1e-6, t, np.sin(t * omega) / safe)
    return weight_start * start + weight_end * end


def interpolate(model, a, b, steps=8, method="linear"):
    """Decode ``steps`` points on the way from the code of ``a`` to the code of ``b``.

    The examples are encoded (a VAE: the posterior mean), the codes are
    joined by a straight line (``"linear"``) or a great-circle arc
    (``"slerp"``, usual for Gaussian latents), and every point is decoded.
    The first and last points are the reconstructions of ``a`` and ``b``.

    Args:
        model: a decodable autoencoder (``zoo.decoder`` works on it).
        a, b: one example each (the model's input shape), or two batches of
            ``n`` examples of the same shape (``n`` paths).
        steps: points on the way, ends included (>= 2).
        method: ``"linear"`` or ``"slerp"``.

    Returns:
        A float32 NumPy array ``[steps, *output_shape]`` for single examples,
        ``[n, steps, *output_shape]`` for batches.

    Raises:
        ValueError: a model that is not decodable, ``a`` and ``b`` of other
            shapes than the model's input or than each other, ``steps`` < 2,
            an unknown method.

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> zoo.interpolate(model, np.zeros(4), np.ones(4), steps=5).shape
    (5, 4)
    """
    _check_model(model)
    steps = validation.positive_int("steps", steps)
    if steps < 2:
        raise ValueError(f"`steps` counts both ends, so it is at least 2. Received: steps={steps}")
    validation.choice("method", method, ("linear", "slerp"))
    entry = _entry_layer(model)
    if len(model.inputs) != 1:
        raise ValueError("interpolate() needs an autoencoder with one input. "
                         f"Received: model={model.name!r} with {len(model.inputs)} inputs")
    expected = tuple(model.inputs[0].shape[1:])
    a, single_a = _examples("a", a, expected)
    b, single_b = _examples("b", b, expected)
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same shape (one path per pair). "
                         f"Received: a with shape {a.shape}, b with shape {b.shape}")
    # A VAE's code layer is its posterior mean; the decoder starts at z (same shape).
    capabilities = _capabilities(model)
    variational = capabilities.variational if capabilities is not None else \
        isinstance(model, VariationalAutoencoder)
    code = model.get_layer(CODE_LAYER_NAME) if variational else entry
    encode = sub_model(model, code.output, name=f"{model.name}_interpolation_encoder")
    start = np.asarray(encode.predict(a, verbose=0), dtype="float32")
    end = np.asarray(encode.predict(b, verbose=0), dtype="float32")
    n, code_shape = len(a), start.shape[1:]
    start, end = start.reshape(n, 1, -1), end.reshape(n, 1, -1)
    t = np.linspace(0.0, 1.0, steps, dtype="float32").reshape(1, steps, 1)
    if method == "linear":
        path = (1.0 - t) * start + t * end
    else:
        path = np.stack([_slerp(start[:, 0], end[:, 0], t[0, i]) for i in range(steps)], axis=1)
    if model not in _SAMPLERS:
        _SAMPLERS[model] = decoder(model)
    decoded = np.asarray(_SAMPLERS[model].predict(
        path.reshape(n * steps, *code_shape).astype("float32"), verbose=0), dtype="float32")
    decoded = decoded.reshape(n, steps, *decoded.shape[1:])
    return decoded[0] if single_a and single_b else decoded


def _log_density(loss, x, mean):
    """log p(x | z) per row, for the likelihood a VAE's reconstruction loss stands for.

    ``bce``: Bernoulli; ``mse``: Gaussian with variance 1/2 (its negative
    log-density is the squared error plus a constant); ``mae``: Laplace with
    scale 1. The VAE's training loss is the same sum without the constants.
    """
    axes = tuple(range(1, x.ndim))
    size = int(np.prod(x.shape[1:]))
    if loss == "bce":
        p = np.clip(mean, 1e-7, 1.0 - 1e-7)
        return np.sum(x * np.log(p) + (1.0 - x) * np.log1p(-p), axis=axes)
    if loss == "mse":
        return -np.sum(np.square(x - mean), axis=axes) - 0.5 * size * np.log(np.pi)
    return -np.sum(np.abs(x - mean), axis=axes) - size * np.log(2.0)


def log_likelihood(model, x, samples=100, seed=None, batch_size=64):
    """An importance-sampled estimate of log p(x) per example, in nats (the IWAE bound).

    With ``K = samples`` draws ``z_k ~ q(z | x)`` from the encoder,
    ``log p(x) >= log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x)``. ``K = 1``
    is the usual one-sample ELBO; the bound tightens (rises) as ``K`` grows
    and reaches log p(x) in the limit, so VAEs compare at a large ``K``
    (500 or 5000 in the literature). p(x | z) is the likelihood the model's
    ``reconstruction_loss`` stands for (``bce``: Bernoulli, for data in
    [0, 1], usually binarised; ``mse``: Gaussian; ``mae``: Laplace).

    Args:
        model: a VAE (``zoo.describe`` says ``variational``).
        x: array ``[n, *input_shape]``.
        samples: ``K``, draws per example (>= 1).
        seed: seeds the draws (the same seed gives the same estimate).
        batch_size: examples decoded at once (times ``samples``).

    Returns:
        A float64 NumPy array ``[n]``; its mean is the data's average log-likelihood.

    Raises:
        ValueError: not a VAE, ``x`` of another shape, ``bce`` with data
            outside [0, 1], ``samples`` or ``batch_size`` < 1.

    >>> import zoo
    >>> model = zoo.build("vae", size="toy")
    >>> x = (np.random.default_rng(0).random((3, 6)) > 0.5).astype("float32")
    >>> zoo.log_likelihood(model, x, samples=10, seed=0).shape
    (3,)
    """
    _check_model(model)
    if not isinstance(model, VariationalAutoencoder) or not any(
            layer.name == LOG_VARIANCE_LAYER_NAME for layer in model.layers):
        raise ValueError("log_likelihood() needs a variational autoencoder (registered: "
                         f"{_variational_models()}). Received: model={model.name!r}")
    samples = validation.positive_int("samples", samples)
    batch_size = validation.positive_int("batch_size", batch_size)
    seed = validation.seed("seed", seed)
    expected = tuple(model.inputs[0].shape[1:])
    x, _ = _examples("x", x, expected)
    loss = model.reconstruction_loss
    if loss == "bce" and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError("A Bernoulli likelihood (reconstruction_loss='bce') needs data in [0, 1]. "
                         f"Received: x with values in [{x.min():g}, {x.max():g}]")
    posterior = sub_model(model, {"mean": model.get_layer(CODE_LAYER_NAME).output,
                                  "log_var": model.get_layer(LOG_VARIANCE_LAYER_NAME).output},
                          name=f"{model.name}_posterior")
    if model not in _SAMPLERS:
        _SAMPLERS[model] = decoder(model)
    decode = _SAMPLERS[model]
    rng = np.random.default_rng(seed)
    estimates = []
    for start in range(0, len(x), batch_size):
        chunk = x[start:start + batch_size]
        parts = posterior.predict(chunk, verbose=0)
        mean = np.asarray(parts["mean"], dtype="float64")
        log_var = np.asarray(parts["log_var"], dtype="float64")
        n, latent = len(chunk), mean.shape[1:]
        eps = rng.standard_normal((n, samples, *latent))
        std = np.exp(0.5 * log_var)[:, None]
        z = mean[:, None] + std * eps
        flat = tuple(range(2, z.ndim))
        log_prior = -0.5 * np.sum(np.square(z) + np.log(2 * np.pi), axis=flat)
        log_posterior = -0.5 * np.sum(np.square(eps) + log_var[:, None] + np.log(2 * np.pi),
                                      axis=flat)
        reconstruction = np.asarray(decode.predict(
            z.reshape(n * samples, *latent).astype("float32"), batch_size=max(256, samples),
            verbose=0), dtype="float64").reshape(n, samples, *chunk.shape[1:])
        repeated = np.broadcast_to(chunk[:, None].astype("float64"), reconstruction.shape)
        log_p_x = _log_density(loss, repeated.reshape(n * samples, *chunk.shape[1:]),
                               reconstruction.reshape(n * samples, *chunk.shape[1:]))
        weights = log_p_x.reshape(n, samples) + log_prior - log_posterior
        top = weights.max(axis=1, keepdims=True)
        estimates.append(top[:, 0] + np.log(np.mean(np.exp(weights - top), axis=1)))
    return np.concatenate(estimates)
