"""Graph layers written with ``keras.ops`` only: they run on every backend.

Inside a model a graph batch is a disjoint union of graphs:

- node states ``[num_nodes, channels]``;
- ``edge_index`` int32 ``[2, num_edges]``: row 0 holds the source node of
  each edge, row 1 its target; messages flow from source to target, so a
  node aggregates over its *incoming* edges (list both directions for an
  undirected graph);
- optional ``edge_weight`` float ``[num_edges]``;
- ``graph_ids`` int32 ``[num_nodes]``: the graph of each node.

Aggregation is ``ops.segment_sum`` / ``ops.segment_max`` over the target
node, with the number of segments read from a static shape (the node
count, or the length of a per-graph tensor), so models compile under JAX.

The model inputs carry a leading batch axis (``[batch, num_nodes, F]``,
``[batch, 2, num_edges]``, ...) so that ``fit``/``evaluate`` can slice
them; ``FlattenBatch`` and ``MergeIndex`` turn the ``batch`` stacked graph
batches into one disjoint union and ``SplitBatch`` restores the axis on
the outputs.
"""

import numbers

import keras
from keras import ops

READOUTS = ("mean", "sum", "max")


def _check_units(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _num_rows(x):
    """Static row count where known (JAX, torch, shaped TF), else a tensor."""
    return ops.shape(x)[0]


def _edge_weight(inputs, dtype):
    if len(inputs) > 2 and inputs[2] is not None:
        return ops.cast(inputs[2], dtype)
    return None


def _split_inputs(inputs, layer):
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        raise ValueError(
            f"{layer} takes [node_states, edge_index] or [node_states, edge_index, "
            f"edge_weight]. Received: inputs={inputs!r}")
    x, edge_index = inputs[0], ops.cast(inputs[1], "int32")
    return x, edge_index[0], edge_index[1], _edge_weight(inputs, x.dtype)


class _GraphLayer(keras.layers.Layer):
    """Shared config of the dense parts of graph convolutions."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = _check_units("units", units)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _kernel(self, name, shape):
        return self.add_weight(name=name, shape=shape, initializer=self.kernel_initializer)

    def _bias(self, name="bias", size=None):
        if not self.use_bias:
            return None
        return self.add_weight(name=name, shape=(size or self.units,),
                               initializer=self.bias_initializer)

    def _finish(self, x, bias):
        if bias is not None:
            x = x + bias
        return self.activation(x) if self.activation is not None else x

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="zoo")
class GCNConv(_GraphLayer):
    """Graph convolution of Kipf & Welling with symmetric normalisation.

    ``h_i = act(b + sum_j w_ji / sqrt(d_i d_j) x_j W)`` over the incoming
    edges of ``i`` plus a self-loop of weight 1 that the layer adds
    (``edge_index`` should not list self-loops), where ``d`` is the weighted
    in-degree plus one. With ``edge_weight`` the weights enter the sums.

    Args:
        units: output channels.
        activation: activation name or callable (default linear).
        use_bias: add a bias.
        kernel_initializer, bias_initializer: Keras initializers.

    >>> h = GCNConv(16, activation="relu")([x, edge_index])  # x: [N, F]
    """

    def build(self, input_shape):
        self.kernel = self._kernel("kernel", (input_shape[0][-1], self.units))
        self.bias = self._bias()

    def call(self, inputs):
        x, source, target, weight = _split_inputs(inputs, "GCNConv")
        n = _num_rows(x)
        xw = ops.matmul(x, self.kernel)
        if weight is None:
            weight = ops.ones(ops.shape(source), dtype=xw.dtype)
        degree = ops.segment_sum(weight, target, num_segments=n) + 1.0
        inv_sqrt = ops.where(degree > 0, ops.rsqrt(ops.maximum(degree, 1e-12)), 0.0)
        coefficient = ops.take(inv_sqrt, source) * weight * ops.take(inv_sqrt, target)
        messages = ops.take(xw, source, axis=0) * ops.expand_dims(coefficient, -1)
        out = ops.segment_sum(messages, target, num_segments=n)
        out = out + xw * ops.expand_dims(inv_sqrt * inv_sqrt, -1)
        return self._finish(out, self.bias)


@keras.saving.register_keras_serializable(package="zoo")
class GraphSAGEConv(_GraphLayer):
    """GraphSAGE with mean aggregation: ``act([x_i || mean_j x_j] W + b)``.

    The mean runs over the incoming edges of ``i`` (weighted by
    ``edge_weight`` when given); a node without incoming edges gets zeros
    as its neighbourhood.

    Args:
        units: output channels.
        activation: activation name or callable (default linear).
        use_bias: add a bias.
        normalize: L2-normalise each output row (Hamilton et al.).
        kernel_initializer, bias_initializer: Keras initializers.

    >>> h = GraphSAGEConv(32, activation="relu")([x, edge_index])
    """

    def __init__(self, units, activation=None, use_bias=True, normalize=False, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.normalize = normalize

    def build(self, input_shape):
        self.kernel = self._kernel("kernel", (2 * input_shape[0][-1], self.units))
        self.bias = self._bias()

    def call(self, inputs):
        x, source, target, weight = _split_inputs(inputs, "GraphSAGEConv")
        n = _num_rows(x)
        if weight is None:
            weight = ops.ones(ops.shape(source), dtype=x.dtype)
        total = ops.segment_sum(ops.take(x, source, axis=0) * ops.expand_dims(weight, -1),
                                target, num_segments=n)
        count = ops.segment_sum(weight, target, num_segments=n)
        safe = ops.where(count > 0, count, 1.0)
        mean = ops.where(ops.expand_dims(count > 0, -1), total / ops.expand_dims(safe, -1),
                         0.0)
        out = self._finish(ops.matmul(ops.concatenate([x, mean], axis=-1), self.kernel),
                           self.bias)
        if self.normalize:
            out = out / ops.sqrt(ops.maximum(ops.sum(out * out, -1, keepdims=True), 1e-12))
        return out

    def get_config(self):
        return {**super().get_config(), "normalize": self.normalize}


@keras.saving.register_keras_serializable(package="zoo")
class GINConv(_GraphLayer):
    """Graph Isomorphism Network layer of Xu et al.

    ``h_i = act(MLP((1 + eps) x_i + sum_j w_ji x_j))`` with a two-layer MLP
    (``mlp_activation`` between the layers, after batch normalisation when
    ``batch_norm``) and ``eps`` learnable when ``learn_epsilon`` (GIN-eps)
    or fixed (GIN-0 with ``epsilon=0``).

    Args:
        units: width of both MLP layers and of the output.
        activation: activation of the output (default linear).
        mlp_activation: activation between the two MLP layers.
        epsilon: initial (or fixed) value of ``eps``.
        learn_epsilon: train ``eps``.
        batch_norm: batch-normalise the hidden MLP layer over the nodes of
            the batch (momentum 0.9, so inference statistics follow after
            a few dozen steps); it replaces that layer's bias.
        use_bias: biases in the MLP.
        kernel_initializer, bias_initializer: Keras initializers.

    >>> h = GINConv(32, activation="relu", batch_norm=True)([x, edge_index])
    """

    def __init__(self, units, activation=None, mlp_activation="relu", epsilon=0.0,
                 learn_epsilon=True, batch_norm=False, use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.mlp_activation = keras.activations.get(mlp_activation)
        self.epsilon = float(epsilon)
        self.learn_epsilon = learn_epsilon
        self.batch_norm = batch_norm
        self.norm = (keras.layers.BatchNormalization(momentum=0.9, dtype=self.dtype_policy,
                                                     name="norm") if batch_norm else None)

    def build(self, input_shape):
        self.kernel_1 = self._kernel("kernel_1", (input_shape[0][-1], self.units))
        self.bias_1 = None if self.batch_norm else self._bias("bias_1")
        self.kernel_2 = self._kernel("kernel_2", (self.units, self.units))
        self.bias_2 = self._bias("bias_2")
        self.eps = self.add_weight(name="epsilon", shape=(),
                                   initializer=keras.initializers.Constant(self.epsilon),
                                   trainable=self.learn_epsilon)
        if self.norm is not None:
            self.norm.build((None, self.units))

    def call(self, inputs, training=False):
        x, source, target, weight = _split_inputs(inputs, "GINConv")
        messages = ops.take(x, source, axis=0)
        if weight is not None:
            messages = messages * ops.expand_dims(weight, -1)
        total = ops.segment_sum(messages, target, num_segments=_num_rows(x))
        h = (1.0 + ops.cast(self.eps, x.dtype)) * x + total
        h = ops.matmul(h, self.kernel_1)
        if self.bias_1 is not None:
            h = h + self.bias_1
        if self.norm is not None:
            h = self.norm(h, training=training)
        if self.mlp_activation is not None:
            h = self.mlp_activation(h)
        return self._finish(ops.matmul(h, self.kernel_2), self.bias_2)

    def get_config(self):
        return {**super().get_config(),
                "mlp_activation": keras.activations.serialize(self.mlp_activation),
                "epsilon": self.epsilon, "learn_epsilon": self.learn_epsilon,
                "batch_norm": self.batch_norm}


@keras.saving.register_keras_serializable(package="zoo")
class GraphAttention(_GraphLayer):
    """Graph attention (GAT) of Velickovic et al., multi-head.

    For an edge ``j -> i`` and each head, ``e_ij = LeakyReLU(a_s . z_j +
    a_t . z_i)`` with ``z = x W``; ``alpha_ij`` is the softmax of ``e_ij``
    over the incoming edges of ``i`` (and its self-loop, added by the layer),
    computed stably: the per-node maximum is subtracted before ``exp``. The
    output is ``sum_j alpha_ij z_j`` per head, heads concatenated
    (``[N, num_heads * units]``) or averaged (``[N, units]``).

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
        kernel_initializer, bias_initializer: Keras initializers.

    >>> h = GraphAttention(8, num_heads=4, activation="elu")([x, edge_index])
    """

    def __init__(self, units, num_heads=1, concat_heads=True, negative_slope=0.2,
                 attention_dropout=0.0, add_self_loops=True, activation=None, use_bias=True,
                 seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.num_heads = _check_units("num_heads", num_heads)
        self.concat_heads = concat_heads
        self.negative_slope = float(negative_slope)
        if not 0 <= attention_dropout < 1:
            raise ValueError("`attention_dropout` must be in [0, 1). "
                             f"Received: attention_dropout={attention_dropout!r}")
        self.attention_dropout = float(attention_dropout)
        self.add_self_loops = add_self_loops
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def output_units(self):
        return self.units * self.num_heads if self.concat_heads else self.units

    def build(self, input_shape):
        self.kernel = self._kernel("kernel", (input_shape[0][-1], self.num_heads * self.units))
        self.attention_source = self._kernel("attention_source", (self.num_heads, self.units))
        self.attention_target = self._kernel("attention_target", (self.num_heads, self.units))
        self.bias = self._bias(size=self.output_units)

    def call(self, inputs, training=False):
        if len(inputs) > 2 and inputs[2] is not None:
            raise ValueError("GraphAttention does not use edge weights. "
                             "Received: inputs=[node_states, edge_index, edge_weight]")
        x, source, target, _ = _split_inputs(inputs, "GraphAttention")
        n = _num_rows(x)
        z = ops.reshape(ops.matmul(x, self.kernel), (-1, self.num_heads, self.units))
        if self.add_self_loops:
            nodes = ops.arange(n, dtype="int32")
            source = ops.concatenate([source, nodes])
            target = ops.concatenate([target, nodes])
        score_source = ops.sum(z * self.attention_source, axis=-1)  # [N, H]
        score_target = ops.sum(z * self.attention_target, axis=-1)
        scores = ops.leaky_relu(ops.take(score_source, source, axis=0)
                                + ops.take(score_target, target, axis=0),
                                negative_slope=self.negative_slope)  # [E, H]
        # Softmax over each node's incoming edges; the shift cancels, so it
        # carries no gradient.
        peak = ops.stop_gradient(ops.segment_max(scores, target, num_segments=n))
        scores = ops.exp(scores - ops.take(peak, target, axis=0))
        total = ops.segment_sum(scores, target, num_segments=n)
        alpha = scores / ops.take(total, target, axis=0)
        if training and self.attention_dropout > 0:
            alpha = keras.random.dropout(alpha, self.attention_dropout,
                                         seed=self.seed_generator)
        messages = ops.take(z, source, axis=0) * ops.expand_dims(alpha, -1)
        out = ops.segment_sum(messages, target, num_segments=n)  # [N, H, U]
        if self.concat_heads:
            out = ops.reshape(out, (-1, self.num_heads * self.units))
        else:
            out = ops.mean(out, axis=1)
        return self._finish(out, self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.output_units)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "concat_heads": self.concat_heads, "negative_slope": self.negative_slope,
                "attention_dropout": self.attention_dropout,
                "add_self_loops": self.add_self_loops, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class GraphReadout(keras.layers.Layer):
    """Pools node states per graph: ``[node_states, graph_ids, per_graph] -> [G, C]``.

    ``per_graph`` is any tensor with one entry per graph (the model passes
    ``graph_sizes``); only its static length is used, as the number of
    segments, so the layer compiles under JAX. An empty graph pools to zeros.

    Args:
        mode: ``"mean"``, ``"sum"`` or ``"max"``.

    >>> pooled = GraphReadout("sum")([h, graph_ids, graph_sizes])
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in READOUTS:
            raise ValueError(f"`mode` must be one of {READOUTS}. Received: mode={mode!r}")
        self.mode = mode

    def call(self, inputs):
        x, graph_ids, per_graph = inputs
        graph_ids = ops.cast(graph_ids, "int32")
        g = _num_rows(per_graph)
        count = ops.segment_sum(ops.ones(ops.shape(graph_ids), dtype=x.dtype), graph_ids,
                                num_segments=g)
        count = ops.expand_dims(count, -1)
        if self.mode == "max":
            pooled = ops.segment_max(x, graph_ids, num_segments=g)
            return ops.where(count > 0, pooled, 0.0)
        total = ops.segment_sum(x, graph_ids, num_segments=g)
        if self.mode == "sum":
            return total
        return total / ops.maximum(count, 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[2][0], input_shape[0][-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="zoo")
class InnerProductDecoder(keras.layers.Layer):
    """Scores node pairs: ``[z, pair_index [2, P]] -> act(z_u . z_v)`` of shape ``[P]``.

    Args:
        activation: applied to the inner products (default ``"sigmoid"``:
            edge probabilities; ``None`` gives logits).

    >>> probabilities = InnerProductDecoder()([z, pair_index])
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


# --- batch axis -------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class FlattenBatch(keras.layers.Layer):
    """Merges the two leading axes: ``[batch, rows, ...] -> [batch * rows, ...]``.

    >>> nodes = FlattenBatch()(node_features)  # [B, N, F] -> [B * N, F]
    """

    def call(self, x):
        return ops.reshape(x, (-1,) + tuple(ops.shape(x)[2:]))

    def compute_output_shape(self, input_shape):
        rows = (None if input_shape[0] is None or input_shape[1] is None
                else input_shape[0] * input_shape[1])
        return (rows,) + tuple(input_shape[2:])

    def compute_output_spec(self, x):
        return keras.KerasTensor(self.compute_output_shape(x.shape), dtype=x.dtype)


@keras.saving.register_keras_serializable(package="zoo")
class MergeIndex(keras.layers.Layer):
    """Indices of stacked graph batches made global: ``[index, reference] -> index``.

    ``index`` is ``[batch, 2, E]`` (an edge or pair index, ``pairs=True``)
    or ``[batch, N]`` (graph ids); entry ``b`` is offset by ``b`` times the
    row count of ``reference`` (``[batch, rows, ...]``: node features for
    node indices, graph sizes for graph ids), and the batch axis is merged:
    ``[2, batch * E]`` or ``[batch * N]``.

    Args:
        pairs: whether ``index`` is ``[batch, 2, E]`` (else ``[batch, N]``).

    >>> edges = MergeIndex(pairs=True)([edge_index, node_features])
    """

    def __init__(self, pairs=True, **kwargs):
        super().__init__(**kwargs)
        self.pairs = pairs

    def call(self, inputs):
        index, reference = inputs
        index = ops.cast(index, "int32")
        batch = ops.shape(index)[0]
        offsets = ops.arange(batch, dtype="int32") * ops.cast(ops.shape(reference)[1], "int32")
        if self.pairs:
            index = ops.transpose(index + offsets[:, None, None], (1, 0, 2))
            return ops.reshape(index, (2, -1))
        return ops.reshape(index + offsets[:, None], (-1,))

    def compute_output_spec(self, inputs):
        shape = inputs[0].shape
        size = None if shape[0] is None or shape[-1] is None else shape[0] * shape[-1]
        return keras.KerasTensor((2, size) if self.pairs else (size,), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "pairs": self.pairs}


@keras.saving.register_keras_serializable(package="zoo")
class SplitBatch(keras.layers.Layer):
    """Restores the batch axis: ``[x [batch * R, ...], reference] -> [batch, R, ...]``.

    ``R`` is ``reference.shape[axis]`` and ``batch`` its first dimension.

    Args:
        axis: the axis of ``reference`` that gives ``R`` (1 for
            ``[batch, N, F]`` node features, 2 for a ``[batch, 2, P]`` pair index).

    >>> probabilities = SplitBatch()([node_probabilities, node_features])  # [B, N, C]
    """

    def __init__(self, axis=1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        x, reference = inputs
        rows = ops.shape(reference)[self.axis]
        return ops.reshape(x, (-1, rows) + tuple(ops.shape(x)[1:]))

    def compute_output_shape(self, input_shape):
        x_shape, reference = input_shape
        return (reference[0], reference[self.axis]) + tuple(x_shape[1:])

    def compute_output_spec(self, inputs):
        x = inputs[0]
        shape = self.compute_output_shape((x.shape, inputs[1].shape))
        return keras.KerasTensor(shape, dtype=x.dtype)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
