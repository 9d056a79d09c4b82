"""Working with trained autoencoders: the decoder, VAE samples, anomaly scores.

``decoder(model)`` is the counterpart of ``zoo.encoder(model)``: the
sub-model from the code (for VAEs: the latent ``z``) to the reconstruction,
sharing weights with ``model``. ``sample`` decodes ``z ~ N(0, I)``;
``reconstruction_error`` scores each sample by how badly it is rebuilt.

For zoo models these read what the registry declares
(``Capabilities.decodable`` / ``.variational``) and enter the decoder at
the layer the builders name (``CODE_LAYER_NAME``, or
``SAMPLING_LAYER_NAME`` for VAEs).
"""

import weakref

import keras
import numpy as np

from zoo import registry, validation
from zoo.model import CODE_LAYER_NAME, code_layers
from zoo.models.autoencoder.vae import SAMPLING_LAYER_NAME, VariationalAutoencoder

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
