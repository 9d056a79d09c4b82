"""``InnerProductDecoder``: node pairs scored by the inner product of their states."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class InnerProductDecoder(keras.layers.Layer):
    """Scores node pairs: ``[z, pair_index [2, P]] -> act(z_u . z_v)`` of shape ``[P]``.

    Args:
        activation: applied to the inner products (default ``"sigmoid"``:
            edge probabilities; ``None`` gives logits).

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers import InnerProductDecoder
    >>> z = np.array([[1.0, 0.0], [2.0, 1.0]], "float32")
    >>> pairs = np.array([[0, 1], [1, 1]], "int32")  # (0, 1) and (1, 1)
    >>> np.asarray(InnerProductDecoder(None)([z, pairs])).tolist()
    [2.0, 5.0]
    """

    def __init__(self, activation="sigmoid", **kwargs):
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)

    def call(self, inputs):
        z, pairs = inputs
        pairs = ops.cast(pairs, "int32")
        scores = ops.sum(ops.take(z, pairs[0], axis=0) * ops.take(z, pairs[1], axis=0), -1)
        return self.activation(scores) if self.activation is not None else scores

    def compute_output_shape(self, input_shape):
        return (input_shape[1][-1],)

    def get_config(self):
        return {**super().get_config(),
                "activation": keras.activations.serialize(self.activation)}
