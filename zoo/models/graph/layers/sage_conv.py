"""``SAGEConv``: GraphSAGE with the mean aggregator (``GraphSAGEConv`` before 0.2)."""

import keras
from keras import ops

from zoo import validation
from zoo.models.graph.layers.message_passing import MessagePassing


@keras.saving.register_keras_serializable(package="zoo")
class SAGEConv(MessagePassing):
    """GraphSAGE with mean aggregation: ``act([x_i || mean_j x_j] W + b)``.

    The mean runs over the incoming edges of ``i`` (weighted by
    ``edge_weight`` when given); a node without incoming edges gets zeros
    as its neighbourhood.

    Args:
        normalize: L2-normalise each output row (Hamilton et al.).
        units, activation, use_bias, kernel_initializer, bias_initializer:
            as for ``MessagePassing``.

    >>> import zoo
    >>> import keras
    >>> import numpy as np
    >>> layer = zoo.models.graph.layers.SAGEConv(4, normalize=True)  # unit rows
    >>> h = layer([np.ones((2, 3), "float32"), np.array([[0], [1]])])
    >>> np.round(np.linalg.norm(keras.ops.convert_to_numpy(h), axis=-1), 4).tolist()
    [1.0, 1.0]
    """

    aggregation = "mean"

    def __init__(self, units, activation=None, use_bias=True, normalize=False, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.normalize = validation.boolean("normalize", normalize)

    def build(self, input_shape):
        self.kernel = self._kernel("kernel", (2 * input_shape[0][-1], self.units))
        self.bias = self._bias()

    def update(self, aggregated, states, training=False):
        out = self._finish(ops.matmul(ops.concatenate([states, aggregated], axis=-1),
                                      self.kernel), self.bias)
        if self.normalize:
            out = out / ops.sqrt(ops.maximum(ops.sum(out * out, -1, keepdims=True), 1e-12))
        return out

    def get_config(self):
        return {**super().get_config(), "normalize": self.normalize}


@keras.saving.register_keras_serializable(package="zoo")
class GraphSAGEConv(SAGEConv):
    """The pre-0.2 name of ``SAGEConv`` (registered ``zoo>GraphSAGEConv``): zoo 0.1 files load.

    Args: as for ``SAGEConv``, which new code should use.

    >>> import zoo
    >>> zoo.models.graph.layers.GraphSAGEConv(4, normalize=True).get_config()["normalize"]
    True
    """
