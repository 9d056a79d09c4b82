"""The variational autoencoder's reparameterised sampling and its KL term."""

import keras
from keras import ops

from zoo import validation


def kl_divergence(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per sample, summed over the last axis.

    The closed form ``-0.5 * sum(1 + log_var - mean**2 - exp(log_var))``,
    written with ``keras.ops`` so it runs (and differentiates) on every backend.

    >>> keras.ops.convert_to_numpy(kl_divergence(np.ones((1, 2)), np.zeros((1, 2)))).tolist()
    [1.0]
    """
    z_mean = ops.convert_to_tensor(z_mean)
    z_log_var = ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class GaussianSampling(keras.layers.Layer):
    """Reparameterised sample ``z = mean + exp(log_var / 2) * eps``.

    Called on ``[z_mean, z_log_var]``. In training ``eps ~ N(0, I)`` comes
    from the layer's own ``keras.random.SeedGenerator``; at inference the
    layer returns the mean, so predictions are deterministic. On every call
    it records the batch mean of ``kl_divergence(z_mean, z_log_var)`` with
    ``add_loss``: that is how the KL term reaches a model's ``compute_loss``
    on every backend (``VariationalAutoencoder`` weighs it by ``beta``).

    Args:
        seed: seed of the layer's generator (``None``: from Keras' global seed).

    >>> sampling = GaussianSampling(seed=0)
    >>> mean, log_var = np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")
    >>> keras.ops.shape(sampling([mean, log_var], training=True))
    (2, 3)
    >>> keras.ops.convert_to_numpy(sampling([mean, log_var])).tolist()  # inference: the mean
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = validation.seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=False):
        z_mean, z_log_var = inputs
        self.add_loss(ops.mean(kl_divergence(z_mean, z_log_var)))
        if not training:
            return z_mean
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype,
                                      seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
