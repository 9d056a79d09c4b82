"""``gin`` and ``gin_graph_classifier``: graph isomorphism networks (Xu et al.)."""

from zoo import validation
from zoo.models.graph.common import build_graph_classifier, register_graph_encoder
from zoo.models.graph.layers import GINConv

CITATION = "Xu, Hu, Leskovec & Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019."


@register_graph_encoder(
    "gin",
    description="Graph isomorphism network: sum over neighbours plus (1 + eps) times the "
                "node itself, through a two-layer MLP; eps learnable.",
    graph_description="GIN layers (sum aggregation, MLP, learnable eps), then a sum "
                      "(default), mean or max readout; softmax over each graph's classes.",
    citation=CITATION, graph_citation=CITATION,
    graph_defaults={"batch_norm": True, "readout": "sum"},
)
def gin(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
        use_edge_weight=False, learn_epsilon=True, batch_norm=False, readout=None,
        num_classes=2):
    """GIN node classifier (``readout=None``) or graph classifier.

    Each graph layer is a ``GINConv`` whose MLP uses ``activation`` too.
    The graph classifier defaults to ``batch_norm=True`` and a ``sum``
    readout, as in Xu et al.

    Args:
        num_features, hidden_units, activation, dropout, use_edge_weight, readout,
            num_classes: the arguments of every graph classifier
            (``zoo.models.graph.common``).
        learn_epsilon: learn eps (GIN-eps); False keeps eps = 0 (GIN-0).
        batch_norm: batch normalisation (over the nodes of the batch) inside
            each GIN layer's MLP.

    >>> import zoo
    >>> zoo.model_params(zoo.build("gin_graph_classifier"))["readout"]
    'sum'
    """
    options = {"mlp_activation": activation,
               "learn_epsilon": validation.boolean("learn_epsilon", learn_epsilon),
               "batch_norm": validation.boolean("batch_norm", batch_norm)}
    return build_graph_classifier(GINConv, "gin", num_features, hidden_units, activation,
                                  dropout, use_edge_weight, readout, num_classes, options)
