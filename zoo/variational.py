"""The variational autoencoder model class and its loss terms.

``VariationalAutoencoder`` is a functional ``ZooModel`` whose
``compute_loss`` (backend-neutral in Keras 3) adds ``beta * KL`` to a
per-sample reconstruction term and reports both as metrics, written with
``keras.ops`` only, so the same model trains under TensorFlow, JAX and
torch without a ``GradientTape``. The builders live in ``zoo.autoencoders``.
"""

import keras
from keras import ops

from zoo import losses, validation
from zoo.model import ZooModel

# The GaussianSampling layer of every zoo VAE; the decoder starts at its output.
SAMPLING_LAYER_NAME = "z"


def reconstruction_term(name, target, prediction, sample_weight=None):
    """Per-sample *sum* of the elementwise loss ``name``, averaged over the batch.

    This is the negative log-likelihood scale of the ELBO (``bce``:
    Bernoulli, ``mse``: Gaussian up to constants), which is what the KL
    term is weighed against.
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
        return reconstruction + self.beta * kl

    def get_config(self):
        return {**super().get_config(), "beta": self.beta,
                "reconstruction_loss": self.reconstruction_loss}
