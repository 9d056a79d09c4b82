"""``GraphModel``: the model class of the graph family."""

import keras

from zoo.model import ValueRange, ZooModel
from zoo.models.graph.data import check_graph_batch, check_graph_values

# The index inputs of graph models and what bounds their values (the inputs'
# sizes in the same batch: node ids are below node_features.shape[1]).
INDEX_RANGES = {
    "edge_index": ValueRange(0, size_of=("node_features", 1), what="node ids", why="num_nodes"),
    "pair_index": ValueRange(0, size_of=("node_features", 1), what="node ids", why="num_nodes"),
    "graph_ids": ValueRange(0, size_of=("graph_sizes", 1), what="graph ids", why="num_graphs"),
}


@keras.saving.register_keras_serializable(package="zoo")
class GraphModel(ZooModel):
    """A ``ZooModel`` over graph batches that checks its input first.

    Every call checks the fields the model needs (presence, rank, dtype,
    sizes) and drops the others, so one batch from ``zoo.batch_graphs``
    feeds node, graph and link models alike. The index fields are declared
    in ``input_ranges`` (``edge_index`` and ``pair_index`` hold node ids in
    ``[0, num_nodes)``, ``graph_ids`` graph ids in ``[0, num_graphs)``) and
    checked like every zoo model's ids: NumPy on the host, backend tensors
    with a min/max reduction, ``tf.data`` elements as they are consumed (see
    ``ZooModel``). NumPy batches are also checked for finite
    ``edge_weight`` and for ``graph_sizes`` that count ``graph_ids``.
    Inside compiled functions only the static checks can run.

    Args:
        inputs, outputs, zoo_name, zoo_config: as for ``ZooModel``.

    >>> import zoo
    >>> model = zoo.build("gcn", size="toy")
    >>> type(model).__name__, sorted(tensor.name for tensor in model.inputs)
    ('GraphModel', ['edge_index', 'node_features'])
    >>> model.input_ranges()["edge_index"].size_of
    ('node_features', 1)
    """

    def _graph_fields(self):
        return sorted(tensor.name for tensor in self.inputs)

    def _num_features(self):
        return next(t.shape[-1] for t in self.inputs if t.name == "node_features")

    def _check(self, x):
        return check_graph_batch(x, required=self._graph_fields(),
                                 num_features=self._num_features(), check_values=False)

    def input_ranges(self):
        ranges = super().input_ranges()
        names = set(self._graph_fields())
        ranges.update({name: value_range for name, value_range in INDEX_RANGES.items()
                       if name in names})
        return ranges

    def _check_structure(self, x):
        # Before Keras' own input checks, so the errors name the graph fields.
        return self._check(x)

    def _check_more_values(self, named):
        check_graph_values(named, ranges=False)

    def call(self, inputs, training=None, mask=None, **kwargs):
        # Compiled train steps reach call() directly: the static checks run here.
        inputs = self._check(inputs)
        return super().call(inputs, training=training, mask=mask, **kwargs)
