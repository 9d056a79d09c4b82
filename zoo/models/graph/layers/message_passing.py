"""The message-passing base every graph convolution of the zoo builds on.

Inside a model a graph batch is a disjoint union of graphs:

- node states ``[num_nodes, channels]`` (or ``[num_nodes, heads, channels]``);
- ``edge_index`` int32 ``[2, num_edges]``: row 0 holds the source node of
  each edge, row 1 its target; messages flow from source to target, so a
  node aggregates over its *incoming* edges (list both directions for an
  undirected graph);
- optional ``edge_weight`` float ``[num_edges]``.

One layer step is ``propagate``: ``message`` (one message per edge, by
default the source state scaled by the edge weight), ``aggregate`` (per
target node with ``keras.ops.segment_sum`` / ``segment_max``; the mean is
the sum over the summed weights) and ``update`` (the new node state from
the aggregate and the old state). Subclasses override those hooks. The
number of segments comes from a static shape (the node count), so models
compile under JAX.
"""

import math

import keras
from keras import ops

from zoo import validation

AGGREGATIONS = ("sum", "mean", "max")
# The "no value" of a masked maximum: float32's lowest finite value, not
# ``-inf``. tf2onnx's ``Where`` turns an unselected ``-inf`` into NaN, and
# ONNX's segment maximum of an empty segment is ``-inf`` (TensorFlow's is this
# value), so maxima that a ``where`` drops are clipped to it first. In
# float16 it rounds to ``-inf``, as before.
LOWEST = -3.4028235e38


def num_rows(x):
    """Static row count where known (JAX, torch, shaped TF), else a tensor."""
    return ops.shape(x)[0]


def row_ids(x):
    """``[0, 1, ..., n - 1]`` int32 for the ``n`` rows of ``x`` (``n`` may be 0).

    A cumulative sum, not ``ops.arange(n)``: with a symbolic ``n`` (JAX's
    ONNX export) jax2onnx cannot size an ``arange`` (Keras' ``jnp.arange(n,
    None)`` even fails there), while this keeps the exact symbolic length.
    """
    ones = ops.sum(ops.zeros_like(x, dtype="int32"), axis=tuple(range(1, len(x.shape)))) + 1
    return ops.cumsum(ones) - 1


def gather_rows(table, indices):
    """``ops.take(table, indices, axis=0)`` for a ``table`` of any rank, done as a
    lookup in a 2-D table. Keras' torch ``take`` flattens the indices of any
    other table with ``aten::ravel``, which OpenVINO's torch frontend cannot
    convert and torch's ONNX exporter turns into an invalid ``Squeeze``; the
    values are the same."""
    if len(table.shape) == 2:
        return ops.take(table, indices, axis=0)
    trailing = tuple(table.shape[1:])
    flat = ops.reshape(table, (-1, int(math.prod(trailing)) if trailing else 1))
    rows = ops.take(flat, indices, axis=0)
    return ops.reshape(rows, (-1,) + trailing)


def scale(values, weights):
    """``values`` ``[E, ...]`` times per-edge ``weights`` (``[E]`` or ``[E, H]``),
    broadcast over the trailing axes of ``values``."""
    for _ in range(len(values.shape) - len(weights.shape)):
        weights = ops.expand_dims(weights, -1)
    return values * ops.cast(weights, values.dtype)


def segment_reduce(values, segment_ids, num_segments, mode="sum", weights=None):
    """Sum, mean or max of ``values`` ``[E, ...]`` per segment; empty segments give zeros.

    ``weights`` (``[E]``, optional) are the weights the values already carry:
    the mean divides by their sum per segment instead of the count.
    """
    validation.choice("mode", mode, AGGREGATIONS)
    if mode == "sum":
        return ops.segment_sum(values, segment_ids, num_segments=num_segments)
    if weights is None or mode == "max":
        weights = ops.ones(ops.shape(segment_ids), dtype=values.dtype)
    count = ops.segment_sum(weights, segment_ids, num_segments=num_segments)
    count = ops.reshape(count, (-1,) + (1,) * (len(values.shape) - 1))
    if mode == "max":
        pooled = ops.segment_max(values, segment_ids, num_segments=num_segments)
        return ops.where(count > 0, ops.maximum(pooled, LOWEST), 0.0)
    total = ops.segment_sum(values, segment_ids, num_segments=num_segments)
    return ops.where(count > 0, total / ops.where(count > 0, count, 1.0), 0.0)


def segment_softmax(scores, segment_ids, num_segments):
    """Softmax of per-edge ``scores`` ``[E, ...]`` over the edges of each segment.

    The per-segment maximum is subtracted before ``exp`` (it cancels, so it
    carries no gradient): scores in the thousands stay finite.
    """
    scores = ops.convert_to_tensor(scores)
    peak = ops.stop_gradient(ops.segment_max(scores, segment_ids, num_segments=num_segments))
    scores = ops.exp(scores - gather_rows(peak, segment_ids))
    total = ops.segment_sum(scores, segment_ids, num_segments=num_segments)
    return scores / gather_rows(total, segment_ids)


def add_remaining_self_loops(source, target, edge_weight, num_nodes, fill_value=1.0):
    """One self-loop ``i -> i`` per node, replacing those ``edge_index`` already has.

    PyG's ``add_remaining_self_loops`` with static shapes (so it compiles
    under ``jax.jit``): the ``E`` edges are kept, but a self-loop among them
    gets weight 0 (it then adds nothing to a sum or a degree), and ``N``
    loops are appended: weight ``fill_value`` for a node that had none, the
    weight of its existing self-loop for a node that had one (the largest,
    if it had several). Without ``edge_weight`` every other edge weighs 1,
    so the weights double as a mask of the edges that count.

    Returns:
        ``(source, target, weight)`` with ``E + N`` edges.

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers.message_passing import add_remaining_self_loops
    >>> source, target = np.array([0, 1], "int32"), np.array([1, 1], "int32")  # 0->1, 1->1
    >>> s, t, w = add_remaining_self_loops(source, target, None, 2)
    >>> np.asarray(t).tolist(), np.asarray(w).tolist()  # the loop 1->1 counts once
    ([1, 1, 0, 1], [1.0, 0.0, 1.0, 1.0])
    """
    source = ops.cast(source, "int32")
    target = ops.cast(target, "int32")
    edge_weight, loop_weight, _ = remaining_self_loop_weights(source, target, edge_weight,
                                                              num_nodes, fill_value)
    nodes = row_ids(loop_weight)  # ``num_nodes`` rows
    return (ops.concatenate([source, nodes]), ops.concatenate([target, nodes]),
            ops.concatenate([edge_weight, loop_weight]))


def remaining_self_loop_weights(source, target, edge_weight, num_nodes, fill_value=1.0):
    """The weights of ``add_remaining_self_loops`` without building the ``E + N`` edges.

    Returns:
        ``(edge_weight, loop_weight, loops)``: the ``[E]`` weights of the given
        edges (0 on a self-loop), the ``[N]`` weights of the added loops (one
        per node, ``i -> i``) and the ``[N]`` count of the self-loops each node
        already had. ``edge_weight=None`` weighs every edge 1 (float32).
    """
    if edge_weight is None:
        edge_weight = ops.ones(ops.shape(source), dtype="float32")
    is_loop = ops.equal(source, target)
    loops = ops.segment_sum(ops.cast(is_loop, edge_weight.dtype), source,
                            num_segments=num_nodes)
    existing = ops.maximum(ops.segment_max(ops.where(is_loop, edge_weight, LOWEST), source,
                                           num_segments=num_nodes), LOWEST)
    loop_weight = ops.where(loops > 0, existing, ops.cast(fill_value, edge_weight.dtype))
    return ops.where(is_loop, ops.zeros_like(edge_weight), edge_weight), loop_weight, loops


@keras.saving.register_keras_serializable(package="zoo")
class MessagePassing(keras.layers.Layer):
    """Base of the graph convolutions: ``[node_states, edge_index(, edge_weight)] -> [N, units]``.

    ``call`` splits the inputs and runs ``propagate``: ``message`` ->
    ``aggregate`` (``self.aggregation``: ``"sum"``, ``"mean"`` or ``"max"``)
    -> ``update``. A subclass sets ``aggregation``, creates its weights in
    ``build`` (``self._kernel``, ``self._bias``) and overrides the hooks it
    needs; ``self._finish`` adds the bias and applies the activation.

    Args:
        units: output channels.
        activation: activation name or callable (default linear).
        use_bias: add a bias.
        kernel_initializer, bias_initializer: Keras initializers.

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers import MessagePassing
    >>> x = np.eye(3, dtype="float32")
    >>> edges = np.array([[0, 1], [2, 2]], "int32")  # 0 -> 2 and 1 -> 2
    >>> np.asarray(MessagePassing(3)([x, edges]))[2].tolist()  # the plain sum
    [1.0, 1.0, 0.0]
    """

    aggregation = "sum"

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = validation.positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.use_bias = validation.boolean("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    # --- weights and output ---

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

    # --- inputs ---

    def split_inputs(self, inputs):
        """``(node_states, source, target, edge_weight or None)`` from the layer inputs."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                f"{type(self).__name__} takes [node_states, edge_index] or [node_states, "
                f"edge_index, edge_weight]. Received: inputs={inputs!r}")
        x, edge_index = inputs[0], ops.cast(inputs[1], "int32")
        weight = inputs[2] if len(inputs) > 2 else None
        weight = None if weight is None else ops.cast(weight, x.dtype)
        return x, edge_index[0], edge_index[1], weight

    # --- the hooks ---

    def message(self, states, source, target, edge_weight, training=False):
        """One message per edge, ``[E, ...]``: the source state times the edge weight."""
        messages = gather_rows(states, source)
        return messages if edge_weight is None else scale(messages, edge_weight)

    def aggregate(self, messages, target, num_nodes, edge_weight):
        """Messages reduced per target node with ``self.aggregation`` (a weighted
        mean divides by the summed weights of each node's incoming edges)."""
        return segment_reduce(messages, target, num_nodes, self.aggregation, edge_weight)

    def update(self, aggregated, states, training=False):
        """The new node states from the aggregate and the old states."""
        return aggregated

    def propagate(self, states, source, target, edge_weight=None, training=False):
        """``update(aggregate(message(...)), states)`` over the edges ``source -> target``."""
        messages = self.message(states, source, target, edge_weight, training=training)
        aggregated = self.aggregate(messages, target, num_rows(states), edge_weight)
        return self.update(aggregated, states, training=training)

    def call(self, inputs, training=False):
        x, source, target, weight = self.split_inputs(inputs)
        return self.propagate(x, source, target, weight, training=training)

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
