"""The autoencoder family: dense, convolutional, variational and LSTM autoencoders.

One module per model (``dense``, ``conv``, ``vae``, ``lstm``), what they
share in ``common``, and ``inference`` for ``decoder``, ``sample``,
``reconstruction_error`` and ``interpolate``. Importing this package registers every model.
Denoising and sparse autoencoders are presets of the dense and
convolutional builders (``noise``, ``code_l1``), not copied code.
"""

from zoo.models.autoencoder import conv, dense, lstm, vae  # noqa: F401  (registers)
from zoo.models.autoencoder.inference import (decoder, interpolate, log_likelihood,
                                              reconstruction_error, sample)
from zoo.models.autoencoder.vae import VariationalAutoencoder, reconstruction_term

__all__ = ["VariationalAutoencoder", "decoder", "interpolate", "log_likelihood",
           "reconstruction_error", "reconstruction_term", "sample"]
