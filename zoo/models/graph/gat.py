"""``gat`` and ``gat_graph_classifier``: graph attention networks (Velickovic et al.)."""

from zoo import validation
from zoo.models.graph.common import build_graph_classifier, node_space, register_graph_encoder
from zoo.models.graph.layers import GATConv

TOY = {"hidden_units": (3, 3), "num_heads": 2}


def search_space(hp):
    """The graph search space with narrower widths (per head) and the head count."""
    return {**node_space(hp, 4, 32), "num_heads": hp.Choice("num_heads", [4, 1, 2, 8])}


def attention_options(num_heads, attention_dropout):
    """The checked options of an attention layer (``GATConv`` or a subclass)."""
    return {"num_heads": validation.positive_int("num_heads", num_heads),
            "attention_dropout": validation.rate("attention_dropout", attention_dropout)}


@register_graph_encoder(
    "gat",
    description="Graph attention network: multi-head attention over each node's incoming "
                "edges and itself (per-node stable softmax), heads concatenated.",
    graph_description="GAT layers, then a mean, sum or max readout; softmax over each "
                      "graph's classes.",
    citation="Velickovic et al., Graph Attention Networks, ICLR 2018.",
    toy=TOY, search_space=search_space,
)
def gat(num_features=16, hidden_units=(8, 8), num_heads=4, activation="elu", dropout=0.0,
        attention_dropout=0.0, readout=None, num_classes=2, output_layer="dense"):
    """GAT node classifier (``readout=None``) or graph classifier.

    Each graph layer is a ``GATConv`` with ``hidden_units[i]`` channels
    per head; attention takes no edge weights.

    Args:
        num_features, hidden_units, activation, dropout, readout, num_classes,
            output_layer: as in ``zoo.models.graph.common``; ``output_layer="graph"``
            ends in a one-head attention layer over the classes (Velickovic et
            al.'s Cora model with ``hidden_units=(8,)``, ``num_heads=8``).
        num_heads: attention heads per layer (concatenated).
        attention_dropout: dropout on the attention weights.

    >>> import zoo
    >>> zoo.build("gat", num_features=34, num_heads=8).output_shape
    (None, None, 2)
    """
    return build_graph_classifier(GATConv, "gat", num_features, hidden_units, activation,
                                  dropout, False, readout, num_classes,
                                  attention_options(num_heads, attention_dropout),
                                  output_layer=output_layer, output_options={"num_heads": 1})
