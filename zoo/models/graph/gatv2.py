"""``gatv2`` and ``gatv2_graph_classifier``: GATv2, dynamic graph attention."""

from zoo.models.graph import gat
from zoo.models.graph.common import build_graph_classifier, register_graph_encoder
from zoo.models.graph.layers.gatv2_conv import GATv2Conv


@register_graph_encoder(
    "gatv2",
    description="GATv2: multi-head dynamic attention (the LeakyReLU comes before the "
                "attention vector, so each node ranks its neighbours its own way), heads "
                "concatenated.",
    graph_description="GATv2 layers, then a mean, sum or max readout; softmax over each "
                      "graph's classes.",
    citation="Brody, Alon & Yahav, How Attentive are Graph Attention Networks?, ICLR 2022.",
    toy=gat.TOY, search_space=gat.search_space,
)
def gatv2(num_features=16, hidden_units=(8, 8), num_heads=4, activation="elu", dropout=0.0,
          attention_dropout=0.0, readout=None, num_classes=2, output_layer="dense"):
    """GATv2 node classifier (``readout=None``) or graph classifier.

    Each graph layer is a ``GATv2Conv``.

    Args:
        num_features, hidden_units, num_heads, activation, dropout,
            attention_dropout, readout, num_classes, output_layer: as for ``gat``.

    >>> import zoo
    >>> zoo.build("gatv2_graph_classifier", num_features=3, num_heads=2).get_layer(
    ...     "gatv2_0").output.shape
    (None, 16)
    """
    return build_graph_classifier(GATv2Conv, "gatv2", num_features, hidden_units, activation,
                                  dropout, False, readout, num_classes,
                                  gat.attention_options(num_heads, attention_dropout),
                                  output_layer=output_layer, output_options={"num_heads": 1})
