"""``graphsage`` and ``graphsage_graph_classifier``: GraphSAGE with the mean aggregator."""

from zoo.models.graph.common import build_graph_classifier, register_graph_encoder
from zoo.models.graph.layers import SAGEConv


@register_graph_encoder(
    "graphsage",
    description="GraphSAGE: each node's state concatenated with the mean of its "
                "neighbours', then a dense map; stacked.",
    graph_description="GraphSAGE layers, then a mean, sum or max readout; softmax over "
                      "each graph's classes.",
    citation="Hamilton, Ying & Leskovec, Inductive Representation Learning on Large Graphs, "
             "NeurIPS 2017.",
)
def graphsage(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
              use_edge_weight=False, readout=None, num_classes=2, output_layer="dense"):
    """GraphSAGE (mean aggregator) node classifier (``readout=None``) or graph classifier.

    Each graph layer is a ``SAGEConv``; with ``use_edge_weight`` its
    neighbour mean is weighted.

    Args:
        num_features, hidden_units, activation, dropout, use_edge_weight, readout,
            num_classes, output_layer: see ``zoo.models.graph.common``.

    >>> import zoo
    >>> model = zoo.build("graphsage", num_features=34, hidden_units=(8,))
    >>> [layer.name for layer in model.layers if layer.name.startswith("graphsage")]
    ['graphsage_0']
    """
    return build_graph_classifier(SAGEConv, "graphsage", num_features, hidden_units,
                                  activation, dropout, use_edge_weight, readout, num_classes,
                                  output_layer=output_layer)
