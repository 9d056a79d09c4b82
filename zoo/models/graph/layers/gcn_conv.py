"""``GCNConv``: the graph convolution of Kipf & Welling."""

import keras
from keras import ops

from zoo.models.graph.layers.message_passing import (MessagePassing, gather_rows, num_rows,
                                                     remaining_self_loop_weights, scale)


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
        weighted = weight is not None
        if not weighted:
            weight = ops.ones(ops.shape(source), dtype=xw.dtype)
        # ``D^-1/2 (A + I) D^-1/2 XW`` without building the ``E + N`` edges of
        # ``add_remaining_self_loops``: the source side of the normalisation scales
        # the ``N`` rows of ``XW`` before the gather, the target side the ``N`` sums
        # after it, and the loops add their rows directly. Without ``edge_weight``
        # the ``E`` messages need no scaling at all: a self-loop already in
        # ``edge_index`` (weight 0 there) is subtracted again instead.
        weight, loop_weight, loops = remaining_self_loop_weights(source, target, weight, n)
        degree = ops.segment_sum(weight, target, num_segments=n) + loop_weight
        inv_sqrt = ops.where(degree > 0, ops.rsqrt(ops.maximum(degree, 1e-12)), 0.0)
        scaled = scale(xw, inv_sqrt)
        messages = gather_rows(scaled, source)
        if weighted:
            messages = scale(messages, weight)
        else:
            loop_weight = loop_weight - loops
        aggregated = ops.segment_sum(messages, target, num_segments=n)
        aggregated = scale(aggregated + scale(scaled, loop_weight), inv_sqrt)
        return self.update(aggregated, xw, training=training)

    def update(self, aggregated, states, training=False):
        return self._finish(aggregated, self.bias)
