"""The batch axis of graph models: ``FlattenBatch``, ``MergeIndex``, ``SplitBatch``.

The model inputs carry a leading batch axis (``[batch, num_nodes, F]``,
``[batch, 2, num_edges]``, ...) so that ``fit``/``evaluate`` can slice
them; ``FlattenBatch`` and ``MergeIndex`` turn the ``batch`` stacked graph
batches into one disjoint union and ``SplitBatch`` restores the axis on
the outputs.
"""

import keras
from keras import ops

from zoo import validation
from zoo.models.graph.layers.message_passing import row_ids


@keras.saving.register_keras_serializable(package="zoo")
class FlattenBatch(keras.layers.Layer):
    """Merges the two leading axes: ``[batch, rows, ...] -> [batch * rows, ...]``.

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers import FlattenBatch
    >>> tuple(FlattenBatch()(np.zeros((2, 5, 3), "float32")).shape)
    (10, 3)
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

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers import MergeIndex
    >>> edges = np.array([[[0], [1]], [[0], [1]]], "int32")  # two batches of 2 nodes
    >>> np.asarray(MergeIndex()([edges, np.zeros((2, 2, 1))])).tolist()
    [[0, 2], [1, 3]]
    """

    def __init__(self, pairs=True, **kwargs):
        super().__init__(**kwargs)
        self.pairs = validation.boolean("pairs", pairs)

    def call(self, inputs):
        index, reference = inputs
        index = ops.cast(index, "int32")
        # row_ids(index), not arange(batch): the batch may be symbolic (export).
        offsets = row_ids(index) * ops.cast(ops.shape(reference)[1], "int32")
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

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.layers import SplitBatch
    >>> tuple(SplitBatch()([np.zeros((10, 4), "float32"), np.zeros((2, 5, 3))]).shape)
    (2, 5, 4)
    """

    def __init__(self, axis=1, **kwargs):
        super().__init__(**kwargs)
        self.axis = validation.positive_int("axis", axis)

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
