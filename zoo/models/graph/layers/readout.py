"""``GraphReadout``: node states pooled per graph."""

import keras

from zoo import validation
from zoo.models.graph.layers.message_passing import num_rows, row_ids, segment_reduce

READOUTS = ("mean", "sum", "max")


@keras.saving.register_keras_serializable(package="zoo")
class GraphReadout(keras.layers.Layer):
    """Pools node states per graph: ``[node_states, graph_ids, per_graph] -> [G, C]``.

    ``per_graph`` is any tensor with one entry per graph (the model passes
    ``graph_sizes``); only its static length is used, as the number of
    segments, so the layer compiles under JAX. An empty graph pools to zeros.

    Args:
        mode: ``"mean"``, ``"sum"`` or ``"max"``.

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers import GraphReadout
    >>> h = np.array([[1.0], [3.0], [5.0]], "float32")
    >>> graph_ids = np.array([0, 0, 1], "int32")
    >>> np.asarray(GraphReadout("sum")([h, graph_ids, np.zeros(2)])).tolist()
    [[4.0], [5.0]]
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        self.mode = validation.choice("mode", mode, READOUTS)

    def call(self, inputs):
        x, graph_ids, per_graph = inputs
        graph_ids = keras.ops.cast(graph_ids, "int32")
        # One id per row of ``x`` by construction (the same values): exports
        # give each input its own symbolic length, and JAX's segment ops
        # must see that ``graph_ids`` and ``x`` have equally many rows. (A
        # 2-D table: Keras' torch ``take`` of a 1-D one emits ``aten::ravel``,
        # which OpenVINO cannot convert.)
        graph_ids = keras.ops.take(graph_ids[:, None], row_ids(x), axis=0)[:, 0]
        return segment_reduce(x, graph_ids, num_rows(per_graph), self.mode)

    def compute_output_shape(self, input_shape):
        return (input_shape[2][0], input_shape[0][-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
