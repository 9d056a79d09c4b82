"""Variational autoencoders: the ``VariationalAutoencoder`` class, ``vae``/``beta_vae``, ``conv_vae``.

A ``VariationalAutoencoder`` is a functional ``ZooModel`` whose
``compute_loss`` (backend-neutral in Keras 3) adds ``beta * KL`` to a
per-sample reconstruction term and reports both as metrics, written with
``keras.ops`` only, so the same model trains under TensorFlow, JAX and
torch without a ``GradientTape``. The builders route the posterior mean
through ``code`` and the sample through ``z`` (``SAMPLING_LAYER_NAME``),
where ``zoo.decoder`` starts.
"""

import functools

import keras
from keras import layers, ops

from zoo import distribution, losses, search_spaces, validation
from zoo.layers import GaussianSampling
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.models.autoencoder.common import (IMAGE_IO, VECTORS, check_output, code_size_space,
                                           conv_blocks, dense_blocks, dense_example_data,
                                           image_example_data, register_autoencoder)
from zoo.registry import Capabilities

# The GaussianSampling layer of every zoo VAE; the decoder starts at its output.
SAMPLING_LAYER_NAME = "z"
# The posterior log-variance (the posterior mean is the layer ``code``).
LOG_VARIANCE_LAYER_NAME = "z_log_var"

CITATION = ("Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014; Higgins et "
            "al., beta-VAE: Learning Basic Visual Concepts with a Constrained "
            "Variational Framework, ICLR 2017.")


# --- the model class --------------------------------------------------------------------------

def reconstruction_term(name, target, prediction, sample_weight=None):
    """Per-sample *sum* of the elementwise loss ``name``, averaged over the batch.

    This is the negative log-likelihood scale of the ELBO (``bce``:
    Bernoulli, ``mse``: Gaussian up to constants), which is what the KL
    term is weighed against.

    >>> import numpy as np
    >>> float(reconstruction_term("mae", np.zeros((2, 3)), np.ones((2, 3))))
    3.0
    """
    validation.choice("reconstruction_loss", name, losses.RECONSTRUCTION_LOSSES)
    prediction = ops.convert_to_tensor(prediction)
    target = ops.cast(target, prediction.dtype)
    if name == "mse":
        elementwise = ops.square(target - prediction)
    elif name == "mae":
        elementwise = ops.abs(target - prediction)
    else:
        elementwise = ops.binary_crossentropy(target, prediction)
    per_sample = ops.sum(elementwise, axis=tuple(range(1, len(prediction.shape))))
    if sample_weight is None:
        return ops.mean(per_sample)
    weight = ops.reshape(ops.cast(sample_weight, per_sample.dtype), (-1,))
    return ops.sum(per_sample * weight) / ops.maximum(ops.sum(weight), 1e-12)


@keras.saving.register_keras_serializable(package="zoo")
class VariationalAutoencoder(ZooModel):
    """A functional VAE: loss = reconstruction + ``beta`` * KL, on every backend.

    The graph routes ``[code, z_log_var]`` (posterior mean and log-variance)
    through a ``GaussianSampling`` layer named ``z``, which samples in
    training, passes the mean at inference, and records the batch KL with
    ``add_loss``; that KL is the only added loss of the zoo's VAEs, so
    ``compute_loss`` reads it from ``self.losses``. Besides ``loss``, fitting
    and evaluating report ``reconstruction_loss`` (see
    ``reconstruction_term``) and ``kl_loss`` (nats per sample). Targets
    default to the inputs: ``fit(x)`` and ``fit(x, x)`` are the same. The
    loss is built in: compile it without one (``zoo.build`` does).

    Args:
        inputs, outputs: as for a functional `keras.Model`.
        beta: weight of the KL term (1 = the ELBO; > 1 = beta-VAE).
        reconstruction_loss: ``mse``, ``mae`` or ``bce``.
        zoo_name, zoo_config: see ``ZooModel``.

    >>> import zoo
    >>> model = zoo.build("vae", input_dim=64, code_size=2, beta=4.0)
    >>> model.beta, model.reconstruction_loss
    (4.0, 'bce')
    """

    def __init__(self, *args, beta=1.0, reconstruction_loss="bce", **kwargs):
        super().__init__(*args, **kwargs)
        self.beta = validation.positive_float("beta", beta)
        self.reconstruction_loss = validation.choice(
            "reconstruction_loss", reconstruction_loss, losses.RECONSTRUCTION_LOSSES)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.loss is not None:
            raise ValueError("A VariationalAutoencoder has its loss built in (reconstruction + "
                             "beta * KL); compile it without one. Received: loss="
                             f"{self.loss!r}")
        target = x if y is None else y
        reconstruction = reconstruction_term(self.reconstruction_loss, target, y_pred,
                                             sample_weight)
        added = self.losses
        if not added:
            raise ValueError("A VariationalAutoencoder needs its GaussianSampling layer's KL "
                             "loss: call the model before computing the loss. "
                             f"Received: model={self.name!r}")
        kl = ops.sum(ops.stack([ops.cast(loss, reconstruction.dtype) for loss in added]))
        batch = ops.shape(y_pred)[0]
        self.reconstruction_tracker.update_state(reconstruction, sample_weight=batch)
        self.kl_tracker.update_state(kl, sample_weight=batch)
        return distribution.replica_loss(reconstruction + self.beta * kl)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta,
                "reconstruction_loss": self.reconstruction_loss}


# --- shared by the builders -------------------------------------------------------------------

def compile_vae(model, learning_rate=1e-3, jit_compile="auto"):
    """Compile a VAE: its loss lives in ``VariationalAutoencoder.compute_loss``."""
    losses.compile_model(model, loss=None, learning_rate=learning_rate,
                         jit_compile=jit_compile)


def vae_search_space(hp):
    """Code size, KL weight ``beta`` and learning rate."""
    return {
        "code_size": code_size_space(hp),
        "beta": hp.Float("beta", 0.25, 8.0, sampling="log"),
        "learning_rate": search_spaces.learning_rate(hp),
    }


# Every VAE has the same citation, compile function and search space.
register_vae = functools.partial(register_autoencoder, citation=CITATION, compiler=compile_vae,
                                 search_space=vae_search_space)


def variational_autoencoder(inputs, encode, decode, *, code_size, output_activation, beta, seed,
                            reconstruction_loss, name):
    """Check the latent arguments, then wire input -> posterior -> ``z`` -> output.

    ``encode(x)`` gives features, ``decode(z, output_activation)`` the
    reconstruction. The posterior mean is the layer ``code``, its
    log-variance ``z_log_var``, the sample ``z``.
    """
    code_size = validation.positive_int("code_size", code_size)
    output_activation = check_output(output_activation, reconstruction_loss)
    beta = validation.positive_float("beta", beta)
    seed = validation.seed("seed", seed)
    features = encode(inputs)
    z_mean = layers.Dense(code_size, name=CODE_LAYER_NAME)(features)
    z_log_var = layers.Dense(code_size, name=LOG_VARIANCE_LAYER_NAME)(features)
    z = GaussianSampling(seed=seed, name=SAMPLING_LAYER_NAME)([z_mean, z_log_var])
    return VariationalAutoencoder(inputs, decode(z, output_activation), beta=beta,
                                  reconstruction_loss=reconstruction_loss, name=name)


# --- builders ---------------------------------------------------------------------------------

@register_vae(
    "vae",
    inputs=VECTORS,
    outputs={"reconstruction": "float32 [batch, input_dim] (decoded posterior mean at "
                               "inference, a posterior sample in training)"},
    description=(
        "Dense variational autoencoder: a Gaussian encoder (code = mean, z_log_var), "
        "reparameterised sampling, a dense decoder; loss = reconstruction + beta * KL. "
        "zoo.sample(model, n, seed) draws new data."
    ),
    capabilities=Capabilities(input_kinds=("vectors",), variational=True, decodable=True),
    sizes={"toy": {"input_dim": 6, "hidden_units": (5,), "code_size": 2},
           "small": {"hidden_units": (128,), "code_size": 16, "learning_rate": 2e-3}},
    example_data=dense_example_data,
    presets={
        "beta_vae": {
            "description": "Dense beta-VAE (beta = 4): a stronger KL weight for a smoother, "
                           "more disentangled latent space.",
            "beta": 4.0,
        },
    },
)
def vae(input_dim=784, hidden_units=(256,), code_size=16, activation="relu",
        output_activation="sigmoid", beta=1.0, seed=None, reconstruction_loss="bce"):
    """Dense variational autoencoder.

    Args:
        input_dim: features per sample.
        hidden_units: widths of the encoder's hidden layers (mirrored by the
            decoder).
        code_size: latent dimensions; the layer ``code`` is the posterior
            mean, ``z_log_var`` its log-variance.
        activation: hidden-layer activation.
        output_activation: activation of the reconstruction.
        beta: weight of the KL term (> 1: beta-VAE).
        seed: seed of the sampling layer's generator.
        reconstruction_loss: ``mse``, ``mae`` or ``bce``, summed per sample.

    >>> import zoo
    >>> model = zoo.build("vae", input_dim=64, code_size=2)
    >>> zoo.sample(model, n=4, seed=0).shape
    (4, 64)
    """
    return variational_autoencoder(
        *dense_blocks(input_dim, hidden_units, activation), code_size=code_size,
        output_activation=output_activation, beta=beta, seed=seed,
        reconstruction_loss=reconstruction_loss, name="vae")


@register_vae(
    "conv_vae",
    **IMAGE_IO,
    description=(
        "Convolutional variational autoencoder: stride-2 Conv2D encoder to a Gaussian "
        "posterior, reparameterised sampling, Conv2DTranspose decoder; loss = "
        "reconstruction + beta * KL."
    ),
    capabilities=Capabilities(input_kinds=("images",), variational=True, decodable=True),
    sizes={"toy": {"input_shape": (4, 4, 2), "filters": (3,), "code_size": 2},
           "small": {"filters": (16, 32), "code_size": 16, "learning_rate": 2e-3}},
    example_data=image_example_data,
)
def conv_vae(input_shape=(28, 28, 1), filters=(32, 64), kernel_size=3, code_size=16,
             activation="relu", output_activation="sigmoid", beta=1.0, seed=None,
             reconstruction_loss="bce"):
    """Convolutional variational autoencoder.

    Args:
        input_shape: ``(height, width, channels)``, divisible by
            ``2 ** len(filters)``.
        filters: widths of the stride-2 convolutions (mirrored by
            Conv2DTranspose layers).
        kernel_size: square kernel of every convolution.
        code_size: latent dimensions (``code`` = posterior mean).
        activation: activation of the convolutions.
        output_activation: activation of the reconstruction.
        beta: weight of the KL term.
        seed: seed of the sampling layer's generator.
        reconstruction_loss: ``mse``, ``mae`` or ``bce``, summed per sample.

    >>> import zoo
    >>> model = zoo.build("conv_vae", input_shape=(8, 8, 1), filters=(16,), code_size=4)
    >>> zoo.decoder(model).input_shape
    (None, 4)
    """
    return variational_autoencoder(
        *conv_blocks(input_shape, filters, kernel_size, activation), code_size=code_size,
        output_activation=output_activation, beta=beta, seed=seed,
        reconstruction_loss=reconstruction_loss, name="conv_vae")
