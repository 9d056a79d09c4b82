"""``GATConv``: graph attention of Velickovic et al. (``GraphAttention`` before 0.2)."""

import keras
from keras import ops

from zoo import validation
from zoo.models.graph.layers.message_passing import (LOWEST, MessagePassing, gather_rows,
                                                     add_remaining_self_loops, num_rows,
                                                     segment_softmax)


@keras.saving.register_keras_serializable(package="zoo")
class GATConv(MessagePassing):
    """Graph attention (GAT) of Velickovic et al., multi-head.

    For an edge ``j -> i`` and each head, ``e_ij = LeakyReLU(a_s . z_j +
    a_t . z_i)`` with ``z = x W``; ``alpha_ij`` is the softmax of ``e_ij``
    over the incoming edges of ``i`` (and its self-loop, added by the layer:
    as in PyG, a self-loop already in ``edge_index`` is replaced by it, not
    counted twice),
    computed stably: the per-node maximum is subtracted before ``exp``. The
    output is ``sum_j alpha_ij z_j`` per head, heads concatenated
    (``[N, num_heads * units]``) or averaged (``[N, units]``).

    Subclasses change how edges are scored by overriding
    ``attention_scores`` (and ``build`` for its weights).

    Args:
        units: channels per head.
        num_heads: attention heads.
        concat_heads: concatenate (True) or average (False) the heads.
        negative_slope: slope of the LeakyReLU on the scores.
        attention_dropout: dropout on the attention weights in training.
        add_self_loops: let every node attend to itself.
        activation: activation of the output (default linear).
        use_bias: add a bias.
        seed: seed of the attention-dropout generator.
        kernel_initializer, bias_initializer: as for ``MessagePassing``.

    >>> import zoo
    >>> layer = zoo.models.graph.layers.GATConv(8, num_heads=4, activation="elu")
    >>> layer.compute_output_shape([(5, 2), (2, 7)])  # heads concatenated
    (5, 32)
    """

    def __init__(self, units, num_heads=1, concat_heads=True, negative_slope=0.2,
                 attention_dropout=0.0, add_self_loops=True, activation=None, use_bias=True,
                 seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.num_heads = validation.positive_int("num_heads", num_heads)
        self.concat_heads = validation.boolean("concat_heads", concat_heads)
        self.negative_slope = validation.non_negative_float("negative_slope", negative_slope)
        self.attention_dropout = validation.rate("attention_dropout", attention_dropout)
        self.add_self_loops = validation.boolean("add_self_loops", add_self_loops)
        self.seed = validation.seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def output_units(self):
        return self.units * self.num_heads if self.concat_heads else self.units

    def build(self, input_shape):
        self.kernel = self._kernel("kernel", (input_shape[0][-1], self.num_heads * self.units))
        self.attention_source = self._kernel("attention_source", (self.num_heads, self.units))
        self.attention_target = self._kernel("attention_target", (self.num_heads, self.units))
        self.bias = self._bias(size=self.output_units)

    def heads(self, x, kernel):
        """``x kernel`` split into heads: ``[N, num_heads, units]``."""
        return ops.reshape(ops.matmul(x, kernel), (-1, self.num_heads, self.units))

    def attention_scores(self, x, z, source, target):
        """Unnormalised scores ``[E, num_heads]``: ``LeakyReLU(a_s . z_j + a_t . z_i)``."""
        score_source = ops.sum(z * self.attention_source, axis=-1)  # [N, H]
        score_target = ops.sum(z * self.attention_target, axis=-1)
        return ops.leaky_relu(gather_rows(score_source, source)
                              + gather_rows(score_target, target),
                              negative_slope=self.negative_slope)

    def call(self, inputs, training=False):
        x, source, target, weight = self.split_inputs(inputs)
        if weight is not None:
            raise ValueError(f"{type(self).__name__} does not use edge weights. "
                             "Received: inputs=[node_states, edge_index, edge_weight]")
        n = num_rows(x)
        z = self.heads(x, self.kernel)
        if self.add_self_loops:
            source, target, counted = add_remaining_self_loops(source, target, None, n)
        scores = self.attention_scores(x, z, source, target)
        if self.add_self_loops:  # the replaced self-loops get no attention
            scores = ops.where(ops.expand_dims(counted > 0, -1), scores,
                               ops.cast(LOWEST, scores.dtype))
        alpha = segment_softmax(scores, target, n)
        if training and self.attention_dropout > 0:
            alpha = keras.random.dropout(alpha, self.attention_dropout,
                                         seed=self.seed_generator)
        return self.propagate(z, source, target, alpha, training=training)

    def update(self, aggregated, states, training=False):
        if self.concat_heads:
            out = ops.reshape(aggregated, (-1, self.num_heads * self.units))
        else:
            out = ops.mean(aggregated, axis=1)
        return self._finish(out, self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.output_units)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "concat_heads": self.concat_heads, "negative_slope": self.negative_slope,
                "attention_dropout": self.attention_dropout,
                "add_self_loops": self.add_self_loops, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class GraphAttention(GATConv):
    """``GATConv`` under its pre-0.2 name, so files saved by zoo 0.1 still load.

    The alias keeps the registered name ``zoo>GraphAttention`` and the
    weight paths of those files (``graph_attention*``); new code should
    use ``GATConv``.

    Args:
        units, num_heads, and the rest: as for ``GATConv``.

    >>> import zoo
    >>> layers = zoo.models.graph.layers
    >>> issubclass(layers.GraphAttention, layers.GATConv)
    True
    """
