"""Input corruption for denoising autoencoders, applied only in training."""

import keras
from keras import ops

from zoo import validation


@keras.saving.register_keras_serializable(package="zoo")
class CorruptionNoise(keras.layers.Layer):
    """Corrupts its input during training; the identity at inference.

    ``gaussian`` adds ``level * N(0, 1)`` to every value; ``masking`` sets
    a random fraction ``level`` of the values to zero (no rescaling, as in
    Vincent et al., 2008). The noise comes from the layer's own
    ``keras.random.SeedGenerator``, so it is reproducible and changes on
    every step under every backend, JAX's compiled train step included.

    Args:
        kind: ``"gaussian"`` or ``"masking"``.
        level: standard deviation (gaussian, > 0) or fraction of values
            masked (masking, in (0, 1)).
        seed: seed of the layer's generator (``None``: from Keras' global seed).

    >>> noise = CorruptionNoise("masking", 0.5, seed=0)
    >>> x = np.ones((2, 8), "float32")
    >>> y = keras.ops.convert_to_numpy(noise(x, training=True))
    >>> sorted(set(y.ravel().tolist()))  # some values zeroed, the rest kept
    [0.0, 1.0]
    >>> bool((keras.ops.convert_to_numpy(noise(x)) == x).all())  # inference: identity
    True
    """

    def __init__(self, kind="gaussian", level=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.level = validation.noise("kind", kind, "level", level)
        self.seed = validation.seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        if self.kind == "gaussian":
            return inputs + self.level * keras.random.normal(
                ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator)
        keep = keras.random.uniform(ops.shape(inputs), dtype=inputs.dtype,
                                    seed=self.seed_generator) >= self.level
        return inputs * ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "level": self.level,
                "seed": self.seed}
