"""``GCNConv``: the graph convolution of Kipf & Welling."""

import keras
from keras import ops

from zoo.models.graph.layers.message_passing import (MessagePassing, add_remaining_self_loops,
                                                     gather_rows,
                                                     num_rows)


@keras.saving.register_keras_serializable(package="zoo")
class GCNConv(MessagePassing):
    """Graph convolution of Kipf & Welling with symmetric normalisation.

    ``h_i = act(b + sum_j w_ji / sqrt(d_i d_j) x_j W)`` over the incoming
    edges of ``i`` and one self-loop per node, where ``d`` is the weighted
    in-degree with that loop: ``D^-1/2 (A + I) D^-1/2 X W``. As in PyG's
    ``gcn_norm``, a self-loop that ``edge_index`` already lists replaces the
    added one (it is not counted twice; with ``edge_weight`` it keeps its
    weight), and other loops weigh 1. With ``edge_weight`` the weights enter
    the sums.

    Args:
        units, activation, use_bias, kernel_initializer, bias_initializer:
            as for ``MessagePassing``.

    >>> import zoo
    >>> import numpy as np
    >>> x, edge_index = np.ones((3, 2), "float32"), np.array([[0, 1], [1, 2]])
    >>> tuple(zoo.models.graph.layers.GCNConv(16)([x, edge_index]).shape)
    (3, 16)
    """

    def build(self, input_shape):
        self.kernel = self._kernel("kernel", (input_shape[0][-1], self.units))
        self.bias = self._bias()

    def call(self, inputs, training=False):
        x, source, target, weight = self.split_inputs(inputs)
        n = num_rows(x)
        xw = ops.matmul(x, self.kernel)
        if weight is None:
            weight = ops.ones(ops.shape(source), dtype=xw.dtype)
        source, target, weight = add_remaining_self_loops(source, target, weight, n)
        degree = ops.segment_sum(weight, target, num_segments=n)
        inv_sqrt = ops.where(degree > 0, ops.rsqrt(ops.maximum(degree, 1e-12)), 0.0)
        coefficient = gather_rows(inv_sqrt, source) * weight * gather_rows(inv_sqrt, target)
        return self.propagate(xw, source, target, coefficient, training=training)

    def update(self, aggregated, states, training=False):
        return self._finish(aggregated, self.bias)
