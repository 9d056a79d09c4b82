"""``gcn`` and ``gcn_graph_classifier``: graph convolutional networks (Kipf & Welling)."""

from zoo.models.graph.common import build_graph_classifier, register_graph_encoder
from zoo.models.graph.layers import GCNConv


@register_graph_encoder(
    "gcn",
    description="Graph convolutional network: symmetric-normalised neighbourhood averages "
                "with self-loops, stacked; softmax over each node's classes.",
    graph_description="GCN layers, then a mean, sum or max readout over each graph's nodes; "
                      "softmax over each graph's classes.",
    citation="Kipf & Welling, Semi-Supervised Classification with Graph Convolutional "
             "Networks, ICLR 2017.",
    bench={"num_features": 32, "hidden_units": (32, 32), "num_classes": 4, "dropout": 0.0},
)
def gcn(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
        use_edge_weight=False, readout=None, num_classes=2, output_layer="dense"):
    """GCN node classifier (``readout=None``) or graph classifier.

    Each graph layer is a ``GCNConv``.

    Args:
        num_features, hidden_units, activation, dropout, use_edge_weight,
            readout, num_classes, output_layer: as for every graph classifier (see
            ``zoo.models.graph.common``); ``output_layer="graph"`` with
            ``hidden_units=(16,)`` is Kipf & Welling's two-layer GCN.

    >>> import zoo
    >>> zoo.build("gcn", num_features=34, num_classes=2).output_shape
    (None, None, 2)
    >>> zoo.build("gcn_graph_classifier", num_features=1, readout="sum").output_shape
    (None, None, 2)
    """
    return build_graph_classifier(GCNConv, "gcn", num_features, hidden_units, activation,
                                  dropout, use_edge_weight, readout, num_classes,
                                  output_layer=output_layer)
