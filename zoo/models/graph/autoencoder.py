"""``graph_autoencoder``: a GCN encoder and an inner-product decoder for link prediction."""

import keras

from zoo.model import CODE_LAYER_NAME
from zoo.models.graph.common import (NODE_INPUTS, check_common, compile_link_predictor, encode,
                                     graph_inputs, link_example_data, node_space)
from zoo.models.graph.layers import GCNConv, InnerProductDecoder, MergeIndex, SplitBatch
from zoo.models.graph.model import GraphModel
from zoo.registry import Capabilities, register_model


@register_model(
    "graph_autoencoder",
    family="graph",
    task="link_prediction",
    inputs={**NODE_INPUTS, "pair_index": "int32 [1, 2, P]: node pairs to score"},
    outputs={"link_probabilities": "float32 [1, P]: sigmoid(z_u . z_v) per pair"},
    description="Graph autoencoder: a GCN encoder (last layer linear) gives node "
                "embeddings z; an inner-product decoder scores node pairs, trained with "
                "binary cross-entropy on edges against non-edges.",
    citation="Kipf & Welling, Variational Graph Auto-Encoders, NIPS Workshop on Bayesian "
             "Deep Learning, 2016 (the non-variational GAE).",
    compiler=compile_link_predictor,
    search_space=node_space,
    capabilities=Capabilities(input_kinds=("graph",)),
    sizes={"toy": {"num_features": 3, "hidden_units": (4, 3)},
           "small": {"hidden_units": (32, 16), "learning_rate": 1e-2}},
    example_data=link_example_data,
)
def graph_autoencoder(num_features=16, hidden_units=(32, 16), activation="relu", dropout=0.0,
                      use_edge_weight=False):
    """GCN graph autoencoder for link prediction.

    Args:
        num_features: node feature width F.
        hidden_units: channels of each graph convolution; the last is the
            embedding size and is linear.
        activation: activation after every graph convolution but the last.
        dropout: dropout before each graph layer.
        use_edge_weight: take an ``edge_weight`` input and weight the sums.

    >>> import zoo
    >>> zoo.build("graph_autoencoder", num_features=1, hidden_units=(32, 16)).output_shape
    (None, None)
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    inputs = graph_inputs(num_features, use_edge_weight, pairs=True)
    h = encode(inputs, GCNConv, "gcn", hidden_units, activation, dropout, last_activation=False)
    code = keras.layers.Identity(name=CODE_LAYER_NAME)(h)
    pairs = MergeIndex(name="pairs")([inputs["pair_index"], inputs["node_features"]])
    scores = InnerProductDecoder(name="inner_product", dtype="float32")([code, pairs])
    outputs = SplitBatch(axis=2, name="link_probabilities", dtype="float32")(
        [scores, inputs["pair_index"]])
    return GraphModel(inputs, outputs, name="graph_autoencoder")
