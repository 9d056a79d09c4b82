"""``gin`` and ``gin_graph_classifier``: graph isomorphism networks (Xu et al.)."""

from zoo import validation
from zoo.models.graph.common import build_graph_classifier, register_graph_encoder
from zoo.models.graph.layers import GINConv

CITATION = "Xu, Hu, Leskovec & Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019."


@register_graph_encoder(
    "gin",
    description="Graph isomorphism network: sum over neighbours plus (1 + eps) times the "
                "node itself, through a two-layer MLP; eps learnable; batch norm in the MLP "
                "by default (without it, some seeds saturate the softmax and stay at chance).",
    graph_description="GIN layers (sum aggregation, MLP, learnable eps), then a sum "
                      "(default), mean or max readout; softmax over each graph's classes.",
    citation=CITATION, graph_citation=CITATION,
    graph_defaults={"readout": "sum"},
)
def gin(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
        use_edge_weight=False, learn_epsilon=True, batch_norm=True, readout=None,
        num_classes=2, output_layer="dense"):
    """GIN node classifier (``readout=None``) or graph classifier.

    Each graph layer is a ``GINConv`` whose MLP uses ``activation`` too.
    Both classifiers default to ``batch_norm=True`` (as in Xu et al.), the
    graph classifier to a ``sum`` readout. Without batch norm the summed
    neighbours saturate the softmax at initialisation and 2 of 10 seeds
    stayed at chance on a two-community graph (0 of 10 with it).

    Args:
        num_features, hidden_units, activation, dropout, use_edge_weight, readout,
            num_classes, output_layer: the arguments of every graph classifier
            (``zoo.models.graph.common``).
        learn_epsilon: learn eps (GIN-eps); False keeps eps = 0 (GIN-0).
        batch_norm: batch normalisation (over the nodes of the batch) inside
            each GIN layer's MLP. ``False`` scored higher on Cora and the
            karate club when it trained, but some seeds never do.

    >>> import zoo
    >>> zoo.model_params(zoo.build("gin_graph_classifier"))["readout"]
    'sum'
    """
    options = {"mlp_activation": activation,
               "learn_epsilon": validation.boolean("learn_epsilon", learn_epsilon),
               "batch_norm": validation.boolean("batch_norm", batch_norm)}
    return build_graph_classifier(GINConv, "gin", num_features, hidden_units, activation,
                                  dropout, use_edge_weight, readout, num_classes, options,
                                  output_layer=output_layer)
