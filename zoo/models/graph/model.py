"""``GraphModel``: the model class of the graph family."""

import keras
import numpy as np

from zoo.model import ZooModel
from zoo.models.graph.data import check_graph_batch


@keras.saving.register_keras_serializable(package="zoo")
class GraphModel(ZooModel):
    """A ``ZooModel`` over graph batches that checks its input first.

    Every call checks the fields the model needs (presence, rank, dtype,
    sizes; values too when they are NumPy arrays) and drops the others, so
    one batch from ``zoo.batch_graphs`` feeds node, graph and link models
    alike. ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch``
    methods check the values of a dict they are given before training.
    Inside compiled functions only the static checks can run.

    Args:
        inputs, outputs, zoo_name, zoo_config: as for ``ZooModel``.

    >>> import zoo
    >>> model = zoo.build("gcn", size="toy")
    >>> type(model).__name__, sorted(tensor.name for tensor in model.inputs)
    ('GraphModel', ['edge_index', 'node_features'])
    """

    def _graph_fields(self):
        return sorted(tensor.name for tensor in self.inputs)

    def _num_features(self):
        return next(t.shape[-1] for t in self.inputs if t.name == "node_features")

    def _check(self, x, check_values):
        return check_graph_batch(x, required=self._graph_fields(),
                                 num_features=self._num_features(), check_values=check_values)

    def __call__(self, inputs, *args, **kwargs):
        # Before Keras' own input checks, so the errors name the graph fields.
        numpy = isinstance(inputs, dict) and all(
            isinstance(inputs.get(name), np.ndarray) for name in self._graph_fields())
        inputs = self._check(inputs, check_values=numpy)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None, **kwargs):
        # Compiled train steps reach call() directly: the static checks run here.
        inputs = self._check(inputs, check_values=False)
        return super().call(inputs, training=training, mask=mask, **kwargs)

    def _check_data(self, x):
        if isinstance(x, dict):
            self._check(x, check_values=True)

    def fit(self, x=None, *args, **kwargs):
        self._check_data(x)
        return super().fit(x, *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        self._check_data(x)
        return super().evaluate(x, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_data(x)
        return super().predict(x, *args, **kwargs)

    def train_on_batch(self, x, *args, **kwargs):
        self._check_data(x)
        return super().train_on_batch(x, *args, **kwargs)

    def test_on_batch(self, x, *args, **kwargs):
        self._check_data(x)
        return super().test_on_batch(x, *args, **kwargs)

    def predict_on_batch(self, x):
        self._check_data(x)
        return super().predict_on_batch(x)
