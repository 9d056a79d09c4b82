"""Learned position embeddings for Transformer inputs."""

import keras
from keras import ops

from zoo import validation


@keras.saving.register_keras_serializable(package="zoo")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of each position to ``[batch, length, dim]``.

    Positions are computed inside the layer (not frozen into the graph when
    the model is wired), so the model trains on every backend.

    Args:
        max_length: the longest sequence the layer accepts.
        initializer: initializer of the embeddings (name or object). The
            default ``glorot_uniform`` draws positions several times larger
            than Keras' token embeddings (uniform in +-0.05); a token tagger
            learns faster from ``random_normal`` (std 0.05), as token
            embeddings are drawn.

    >>> layer = PositionEmbedding(max_length=8)
    >>> keras.ops.shape(layer(np.zeros((2, 5, 4), "float32")))
    (2, 5, 4)
    >>> tuple(layer.embeddings.shape)
    (8, 4)
    """

    def __init__(self, max_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = validation.positive_int("max_length", max_length)
        try:
            self.initializer = keras.initializers.get(initializer)
        except (ValueError, TypeError):
            raise ValueError(f"`initializer` must be a Keras initializer or its name. "
                             f"Received: initializer={initializer!r}") from None

    def _check_length(self, length, shape):
        if isinstance(length, int) and length > self.max_length:
            raise ValueError(f"Sequences of length {length} exceed max_length={self.max_length}. "
                             f"Received: input_shape={tuple(shape)}")

    def build(self, input_shape):
        self._check_length(input_shape[1], input_shape)
        self.embeddings = self.add_weight(
            shape=(self.max_length, input_shape[-1]), initializer=self.initializer,
            name="embeddings")

    def call(self, x):
        length = ops.shape(x)[1]
        self._check_length(length, ops.shape(x))
        if isinstance(length, int):
            positions = self.embeddings[:length]
        else:
            # A symbolic length (exports): gather rows 0 .. length-1, as a slice
            # ``[:length]`` would be ``min(max_length, length)`` long and not
            # broadcast against ``x``. The row ids come from a cumulative sum,
            # not ``ops.arange(length)``, whose symbolic stop jax2onnx cannot
            # size. Same values as the slice (contract: length <= max_length).
            rows = ops.cumsum(ops.ones_like(x[0, :, 0], dtype="int32")) - 1
            positions = ops.take(self.embeddings, rows, axis=0)
        positions = ops.cast(positions, x.dtype)
        return x + ops.expand_dims(positions, 0)

    def at(self, x, positions):
        """``x`` ``[batch, 1, dim]`` plus the embedding of each row's own position.

        One new token per row during generation: ``positions`` is
        ``[batch]`` int, each below ``max_length``.
        """
        return x + ops.cast(ops.take(self.embeddings, positions, axis=0), x.dtype)[:, None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length,
                "initializer": keras.initializers.serialize(self.initializer)}
