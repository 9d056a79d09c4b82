"""``GATv2Conv``: dynamic graph attention of Brody, Alon & Yahav (ICLR 2022)."""

import keras
from keras import ops

from zoo.models.graph.layers.gat_conv import GATConv
from zoo.models.graph.layers.message_passing import gather_rows


@keras.saving.register_keras_serializable(package="zoo")
class GATv2Conv(GATConv):
    """GATv2: graph attention with the nonlinearity before the attention vector.

    For an edge ``j -> i`` and each head, ``e_ij = a . LeakyReLU(W_s x_j +
    W_t x_i)`` (that is, ``a^T LeakyReLU(W [x_i || x_j])``). GAT applies
    ``a`` first and the LeakyReLU after, so its ranking of neighbours is the
    same for every query node ("static" attention); GATv2's can differ per
    query ("dynamic"). ``alpha_ij`` is the stable softmax of ``e_ij`` over
    the incoming edges of ``i`` (and its self-loop), and the output is
    ``sum_j alpha_ij W_s x_j`` per head, heads concatenated or averaged.

    Args:
        units, num_heads, concat_heads, negative_slope, attention_dropout,
            add_self_loops, activation, use_bias, seed, kernel_initializer,
            bias_initializer: as for ``GATConv``.

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers.gatv2_conv import GATv2Conv
    >>> layer = GATv2Conv(8, num_heads=2)
    >>> h = layer([np.ones((4, 3), "float32"), np.array([[0, 1, 2], [1, 2, 3]])])
    >>> tuple(h.shape), [w.name for w in layer.weights]
    ((4, 16), ['kernel', 'kernel_target', 'attention', 'bias'])
    """

    def build(self, input_shape):
        width = (input_shape[0][-1], self.num_heads * self.units)
        self.kernel = self._kernel("kernel", width)  # W_s: also the message transform
        self.kernel_target = self._kernel("kernel_target", width)  # W_t
        self.attention = self._kernel("attention", (self.num_heads, self.units))
        self.bias = self._bias(size=self.output_units)

    def attention_scores(self, x, z, source, target):
        """``a . LeakyReLU(z_j + W_t x_i)`` per edge and head: ``[E, num_heads]``."""
        z_target = self.heads(x, self.kernel_target)
        hidden = ops.leaky_relu(gather_rows(z, source) + gather_rows(z_target, target),
                                negative_slope=self.negative_slope)
        return ops.sum(hidden * self.attention, axis=-1)
