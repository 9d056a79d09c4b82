"""The graph family: message-passing encoders (GCN, GAT, GraphSAGE, GIN, ...), on every backend.

Inputs are graph batches (see ``zoo.models.graph.data``): a dict with a
leading batch axis of 1 on every field, so ``model.fit(batch, labels)``
trains on the whole graph batch per step and the same dict goes to
``predict``::

    batch = zoo.batch_graphs([graph_a, graph_b])       # NumPy or networkx graphs
    model = zoo.build("gcn", num_features=34, num_classes=2)
    model.fit(batch, labels[None], epochs=100)          # labels: [1, N]

Each epoch over one graph batch is one full-batch step; for many steps
without Keras' per-epoch overhead, stack copies on the leading axis and use
``batch_size=1`` (``{k: np.repeat(v, steps, 0) for k, v in batch.items()}``).

Tasks and outputs:

- ``node_classification`` (``gcn``, ``gat``, ``graphsage``, ``gin``, ...):
  ``node_probabilities`` ``[1, N, num_classes]``; label ``-1``
  marks an unlabelled node, left out of the loss and the accuracy.
- ``graph_classification`` (``*_graph_classifier``: the same builders with a
  ``readout``, mean, sum or max over ``graph_ids``): ``graph_probabilities``
  ``[1, G, num_classes]``; these models also need ``graph_ids`` and
  ``graph_sizes``.
- ``link_prediction`` (``graph_autoencoder``): a GCN encoder and an inner
  product decoder score the node pairs of ``pair_index``:
  ``link_probabilities`` ``[1, P]``.

Every classifier head is a softmax over ``num_classes`` (two classes
included), in float32. ``edge_weight`` is an input only of models built
with ``use_edge_weight=True``. Node embeddings (node tasks, link
prediction) or graph embeddings (graph tasks) pass through the layer
named ``code``: ``zoo.encoder(model)`` maps a batch to ``[N, D]`` or
``[G, D]``. Models are ``GraphModel``s: every call and
``fit``/``evaluate``/``predict`` checks the batch first.

Where things are: ``layers/`` (the message-passing base and one layer per
file), ``model.py`` (``GraphModel``), ``data.py`` (graph batches), ``sampling.py``
(neighbour-sampled mini-batches for large graphs: ``NeighborSampler``),
``common.py`` (the shared builder, heads, compiling, example data, search
spaces, registration), one file per model (``gcn.py``, ``gat.py``, ``sage.py``,
``gin.py``, ``autoencoder.py``, ...), each imported below to register it.
"""

from zoo.models.graph import autoencoder, gat, gcn, gin, sage  # noqa: F401  (registers)
from zoo.models.graph import gatv2  # noqa: F401
from zoo.models.graph.data import (batch_graphs, check_graph_batch, from_networkx,  # noqa: F401
                                   split_node_values, to_networkx, unbatch_graphs)
from zoo.models.graph.model import GraphModel  # noqa: F401
from zoo.models.graph.sampling import (IncomingCSR, NeighborSampler,  # noqa: F401
                                       predict_sampled, sample_subgraph)
