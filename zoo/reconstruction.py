"""Working with trained autoencoders: the decoder, VAE samples, anomaly scores.

``decoder(model)`` is the counterpart of ``zoo.encoder(model)``: the
sub-model from the code (for VAEs: the latent ``z``) to the reconstruction,
sharing weights with ``model``. ``sample`` decodes ``z ~ N(0, I)``;
``reconstruction_error`` scores each sample by how badly it is rebuilt.
"""

import weakref

import keras
import numpy as np

from zoo import validation
from zoo.model import code_layers
from zoo.variational import SAMPLING_LAYER_NAME, VariationalAutoencoder

# VAE -> its decoder, so repeated sampling reuses one model and its predict function.
_SAMPLERS = weakref.WeakKeyDictionary()


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")


def decoder(model):
    """The sub-model from the code to the reconstruction (for VAEs: from ``z``).

    Weights are shared with ``model``. Its input is named ``code`` and has
    the code's shape; for a VAE it decodes any latent vector (at inference
    the VAE itself decodes the posterior mean).

    Raises:
        ValueError: ``model`` has no single code layer (``code``) feeding a
            single reconstruction output.
    """
    _check_model(model)
    names = [layer.name for layer in model.layers]
    if SAMPLING_LAYER_NAME in names and isinstance(model, VariationalAutoencoder):
        entry = model.get_layer(SAMPLING_LAYER_NAME)
    else:
        found = code_layers(model)
        if len(found) != 1 or len(model.outputs) != 1:
            raise ValueError(
                "decoder() needs an autoencoder with one layer named 'code' and one "
                "output, such as those zoo.build() makes for the autoencoder family. "
                f"Received: model={model.name!r}")
        entry = found[0]
    inner = keras.Model(entry.output, model.outputs[0], name=f"{model.name}_decoder_graph")
    code = keras.Input(tuple(entry.output.shape[1:]), name="code")
    return keras.Model(code, inner(code), name=f"{model.name}_decoder")


def sample(model, n, seed=None):
    """``n`` new samples from a VAE: decode ``z ~ N(0, I)`` drawn with ``seed``.

    Returns:
        A float32 NumPy array ``[n, *data_shape]``; the same ``seed`` gives
        the same samples.
    """
    _check_model(model)
    if not isinstance(model, VariationalAutoencoder):
        raise ValueError("sample() needs a variational autoencoder (e.g. 'vae', 'conv_vae'). "
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
