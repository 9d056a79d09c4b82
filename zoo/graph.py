"""Graph family: GCN, GAT, GraphSAGE and GIN encoders, on every backend.

Inputs are graph batches (see ``zoo.graph_data``): a dict with a leading
batch axis of 1 on every field, so ``model.fit(batch, labels)`` trains on
the whole graph batch per step and the same dict goes to ``predict``::

    batch = zoo.batch_graphs([graph_a, graph_b])       # NumPy or networkx graphs
    model = zoo.build("gcn", num_features=34, num_classes=2)
    model.fit(batch, labels[None], epochs=100)          # labels: [1, N]

Each epoch over one graph batch is one full-batch step; for many steps
without Keras' per-epoch overhead, stack copies on the leading axis and use
``batch_size=1`` (``{k: np.repeat(v, steps, 0) for k, v in batch.items()}``).

Tasks and outputs:

- ``node_classification`` (``gcn``, ``gat``, ``graphsage``, ``gin``):
  ``node_probabilities`` ``[1, N, num_classes]``; label ``-1`` marks an
  unlabelled node, left out of the loss and the accuracy (semi-supervised
  training on a few labelled nodes).
- ``graph_classification`` (``*_graph_classifier``): a readout (mean, sum
  or max over ``graph_ids``) gives ``graph_probabilities``
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
``[G, D]`` (the batch axis merged). Models are ``GraphModel``s: every call
and ``fit``/``evaluate``/``predict`` checks the batch first (clear errors
for missing fields, wrong rank or dtype, indices out of range).
"""

import keras
import numpy as np
from keras import layers

from zoo import losses, validation
from zoo.constants import UNLABELLED
from zoo.graph_data import batch_graphs, check_graph_batch
from zoo.layers.graph import (READOUTS, FlattenBatch, GCNConv, GINConv, GraphAttention,
                              GraphReadout, GraphSAGEConv, InnerProductDecoder, MergeIndex,
                              SplitBatch)
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.registry import Capabilities, register_model



@keras.saving.register_keras_serializable(package="zoo")
class GraphModel(ZooModel):
    """A ``ZooModel`` over graph batches that checks its input first.

    Every call checks the fields the model needs (presence, rank, dtype,
    sizes; values too when they are NumPy arrays) and drops the others, so
    one batch from ``zoo.batch_graphs`` feeds node, graph and link models
    alike. ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch``
    methods check the values of a dict they are given before training.
    Inside compiled functions only the static checks can run.
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


# --- compiling ------------------------------------------------------------------------------


def compile_graph_classifier(model, learning_rate=1e-2, jit_compile="auto"):
    """Masked sparse cross-entropy and accuracy: label -1 is left out."""
    losses.compile_model(
        model, loss=losses.MaskedSparseCrossentropy(pad_id=UNLABELLED, from_logits=False),
        metrics=[losses.MaskedSparseAccuracy(pad_id=UNLABELLED, name="accuracy")],
        learning_rate=learning_rate, jit_compile=jit_compile)


def compile_link_predictor(model, learning_rate=1e-2, jit_compile="auto"):
    losses.compile_model(model, loss=keras.losses.BinaryCrossentropy(),
                         metrics=[keras.metrics.BinaryAccuracy(name="accuracy"),
                                  keras.metrics.AUC(name="auc")],
                         learning_rate=learning_rate, jit_compile=jit_compile)


# --- shared pieces --------------------------------------------------------------------------


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def _check_common(num_features, hidden_units, activation, dropout, use_edge_weight):
    num_features = validation.positive_int("num_features", num_features)
    hidden_units = validation.positive_int_tuple("hidden_units", hidden_units)
    if not hidden_units:
        raise ValueError("`hidden_units` needs at least one graph layer. "
                         f"Received: hidden_units={hidden_units!r}")
    return (num_features, hidden_units, validation.activation("activation", activation),
            validation.rate("dropout", dropout), _check_bool("use_edge_weight", use_edge_weight))


def _check_num_classes(num_classes):
    num_classes = validation.positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2. Received: num_classes={num_classes}")
    return num_classes


def _inputs(num_features, use_edge_weight, graph_level=False, pairs=False):
    inputs = {"node_features": keras.Input((None, num_features), name="node_features"),
              "edge_index": keras.Input((2, None), dtype="int32", name="edge_index")}
    if use_edge_weight:
        inputs["edge_weight"] = keras.Input((None,), name="edge_weight")
    if graph_level:
        inputs["graph_ids"] = keras.Input((None,), dtype="int32", name="graph_ids")
        inputs["graph_sizes"] = keras.Input((None,), dtype="int32", name="graph_sizes")
    if pairs:
        inputs["pair_index"] = keras.Input((2, None), dtype="int32", name="pair_index")
    return inputs


def _encode(inputs, make_conv, hidden_units, dropout, last_activation=True):
    """Merged node states after the graph layers.

    ``make_conv(i, units, linear)`` returns the graph layer ``i``, linear or not.
    """
    nodes = FlattenBatch(name="nodes")(inputs["node_features"])
    graph = [MergeIndex(name="edges")([inputs["edge_index"], inputs["node_features"]])]
    if "edge_weight" in inputs:
        graph.append(FlattenBatch(name="edge_weights")(inputs["edge_weight"]))
    h = nodes
    for i, units in enumerate(hidden_units):
        if dropout:
            h = layers.Dropout(dropout, name=f"dropout_{i}")(h)
        last = i == len(hidden_units) - 1
        h = make_conv(i, units, last and not last_activation)([h, *graph])
    return h


def _classifier_head(states, num_classes, dropout, reference, axis_name, inputs, name):
    code = layers.Identity(name=CODE_LAYER_NAME)(states)
    x = layers.Dropout(dropout, name="head_dropout")(code) if dropout else code
    x = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(x)
    outputs = SplitBatch(name=f"{axis_name}_probabilities", dtype="float32")([x, reference])
    return GraphModel(inputs, outputs, name=name)


def _node_classifier(make_conv, num_features, hidden_units, dropout, use_edge_weight,
                     num_classes, name):
    inputs = _inputs(num_features, use_edge_weight)
    h = _encode(inputs, make_conv, hidden_units, dropout)
    return _classifier_head(h, num_classes, dropout, inputs["node_features"], "node", inputs,
                            name)


def _graph_classifier(make_conv, num_features, hidden_units, dropout, use_edge_weight,
                      num_classes, readout, name):
    validation.choice("readout", readout, READOUTS)
    inputs = _inputs(num_features, use_edge_weight, graph_level=True)
    h = _encode(inputs, make_conv, hidden_units, dropout)
    graph_ids = MergeIndex(pairs=False, name="graph_ids_merged")(
        [inputs["graph_ids"], inputs["graph_sizes"]])
    sizes = FlattenBatch(name="graphs")(inputs["graph_sizes"])
    pooled = GraphReadout(readout, name=f"{readout}_readout")([h, graph_ids, sizes])
    return _classifier_head(pooled, num_classes, dropout, inputs["graph_sizes"], "graph",
                            inputs, name)


def _gcn(activation):
    return lambda i, units, linear: GCNConv(units, activation=None if linear else activation,
                                            name=f"gcn_{i}")


def _sage(activation):
    return lambda i, units, linear: GraphSAGEConv(
        units, activation=None if linear else activation, name=f"graphsage_{i}")


def _gin(activation, learn_epsilon, batch_norm):
    return lambda i, units, linear: GINConv(
        units, activation=None if linear else activation, mlp_activation=activation,
        learn_epsilon=learn_epsilon, batch_norm=batch_norm, name=f"gin_{i}")


def _gat(activation, num_heads, attention_dropout):
    return lambda i, units, linear: GraphAttention(
        units, num_heads=num_heads, attention_dropout=attention_dropout,
        activation=None if linear else activation, name=f"gat_{i}")


def _check_gat(num_heads, attention_dropout):
    return (validation.positive_int("num_heads", num_heads),
            validation.rate("attention_dropout", attention_dropout))


# --- example data ---------------------------------------------------------------------------


def random_graph(rng, num_nodes, num_features, edge_weight=False):
    """A connected random graph dict: a ring plus ``num_nodes // 2`` random chords
    (both directions of every edge), normal node features."""
    edges = {(i, (i + 1) % num_nodes) for i in range(num_nodes)} if num_nodes > 1 else set()
    for _ in range(num_nodes // 2):
        u, v = rng.integers(0, num_nodes, size=2)
        if u != v:
            edges.add((int(u), int(v)))
    edges = {(min(u, v), max(u, v)) for u, v in edges}
    pairs = sorted(edges) + sorted((v, u) for u, v in edges)
    graph = {"node_features": rng.normal(size=(num_nodes, num_features)).astype("float32"),
             "edge_index": np.array(pairs, "int32").reshape(-1, 2).T}
    if edge_weight:
        graph["edge_weight"] = rng.uniform(0.5, 1.5, size=len(pairs)).astype("float32")
    return graph


def _fields(batch, graph_level=False, edge_weight=False, pairs=False):
    names = ["node_features", "edge_index"] + (["edge_weight"] if edge_weight else [])
    names += (["graph_ids", "graph_sizes"] if graph_level else []) + (
        ["pair_index"] if pairs else [])
    return {name: batch[name] for name in names}


def node_example_data(params, n, seed):
    """One random graph of ``n`` nodes; labels ``[1, n]``."""
    rng = np.random.default_rng(seed)
    weighted = params.get("use_edge_weight", False)
    batch = batch_graphs([random_graph(rng, n, params["num_features"], weighted)])
    y = rng.integers(0, params["num_classes"], size=(1, n)).astype("int32")
    return _fields(batch, edge_weight=weighted), y


def graph_example_data(params, n, seed):
    """``n`` random graphs of 3 to 6 nodes in one batch; labels ``[1, n]``."""
    rng = np.random.default_rng(seed)
    weighted = params.get("use_edge_weight", False)
    graphs = [random_graph(rng, int(rng.integers(3, 7)), params["num_features"], weighted)
              for _ in range(n)]
    y = rng.integers(0, params["num_classes"], size=(1, n)).astype("int32")
    return _fields(batch_graphs(graphs), graph_level=True, edge_weight=weighted), y


def link_example_data(params, n, seed):
    """One random graph of ``n`` nodes; its edges and as many non-edges as pairs."""
    rng = np.random.default_rng(seed)
    weighted = params.get("use_edge_weight", False)
    graph = random_graph(rng, n, params["num_features"], weighted)
    edges = {tuple(sorted(pair)) for pair in graph["edge_index"].T.tolist()}
    non_edges = [(u, v) for u in range(n) for v in range(u + 1, n) if (u, v) not in edges]
    chosen = rng.permutation(len(non_edges))[:len(edges)]
    pairs = sorted(edges) + [non_edges[i] for i in chosen]
    labels = np.array([1.0] * len(edges) + [0.0] * len(chosen), "float32")
    batch = batch_graphs([graph], pairs=[np.array(pairs, "int32").reshape(-1, 2).T])
    return _fields(batch, edge_weight=weighted, pairs=True), labels[None]


# --- search spaces --------------------------------------------------------------------------


def _layers_space(hp, low=8, high=128):
    depth = hp.Int("num_layers", 1, 3)
    width = hp.Int("units", low, high, sampling="log")
    return {"hidden_units": (width,) * depth,
            "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
            "learning_rate": hp.Float("learning_rate", 1e-3, 3e-2, sampling="log")}


def _node_space(hp):
    return _layers_space(hp)


def _gat_space(hp):
    return {**_layers_space(hp, 4, 32), "num_heads": hp.Choice("num_heads", [4, 1, 2, 8])}


def _graph_space(hp):
    return {**_layers_space(hp), "readout": hp.Choice("readout", list(READOUTS))}


def _gat_graph_space(hp):
    return {**_gat_space(hp), "readout": hp.Choice("readout", list(READOUTS))}


# --- node classification --------------------------------------------------------------------

_NODE_INPUTS = {
    "node_features": "float32 [1, N, num_features]",
    "edge_index": "int32 [1, 2, E]: source and target node ids in [0, N)",
    "edge_weight": "float32 [1, E] (only with use_edge_weight=True)",
}
_NODE_OUTPUTS = {"node_probabilities": "float32 [1, N, num_classes]; label -1 = unlabelled"}
_GRAPH_INPUTS = {
    **_NODE_INPUTS,
    "graph_ids": "int32 [1, N]: graph of each node, in [0, G)",
    "graph_sizes": "int32 [1, G]: nodes per graph (gives G statically)",
}
_GRAPH_OUTPUTS = {"graph_probabilities": "float32 [1, G, num_classes]; label -1 = ignored"}
_NODE_TOY = {"num_features": 3, "hidden_units": (4, 4), "num_classes": 3}
_CITE_GCN = ("Kipf & Welling, Semi-Supervised Classification with Graph Convolutional "
             "Networks, ICLR 2017.")
_CITE_GAT = "Velickovic et al., Graph Attention Networks, ICLR 2018."
_CITE_SAGE = ("Hamilton, Ying & Leskovec, Inductive Representation Learning on Large Graphs, "
              "NeurIPS 2017.")
_CITE_GIN = "Xu, Hu, Leskovec & Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019."
_READOUT_CITE = " Readout: Xu et al., ICLR 2019."


def _node_spec(name, description, citation, toy=None, search_space=_node_space):
    return register_model(
        name, family="graph", task="node_classification", inputs=_NODE_INPUTS,
        outputs=_NODE_OUTPUTS, description=description, citation=citation,
        compiler=compile_graph_classifier, search_space=search_space,
        capabilities=Capabilities(input_kinds=("graph",), node_level=True),
        sizes={"toy": {**_NODE_TOY, **(toy or {})}}, example_data=node_example_data)


def _graph_spec(name, description, citation, toy=None, search_space=_graph_space):
    return register_model(
        name, family="graph", task="graph_classification", inputs=_GRAPH_INPUTS,
        outputs=_GRAPH_OUTPUTS, description=description,
        citation=citation if citation == _CITE_GIN else citation + _READOUT_CITE,
        compiler=compile_graph_classifier, search_space=search_space,
        capabilities=Capabilities(input_kinds=("graph",)),
        sizes={"toy": {**_NODE_TOY, **(toy or {})}}, example_data=graph_example_data)


_GAT_TOY = {"hidden_units": (3, 3), "num_heads": 2}


@_node_spec("gcn", "Graph convolutional network: symmetric-normalised neighbourhood averages "
            "with self-loops, stacked; softmax over each node's classes.", _CITE_GCN)
def gcn(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
        use_edge_weight=False, num_classes=2):
    """GCN node classifier.

    Args:
        num_features: node feature width F.
        hidden_units: channels of each graph convolution (one layer each).
        activation: activation after each graph convolution.
        dropout: dropout before each graph layer and before the head.
        use_edge_weight: take an ``edge_weight`` input and weight the sums.
        num_classes: softmax classes per node (label -1 = unlabelled).

    >>> model = zoo.build("gcn", num_features=34, num_classes=2)
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    return _node_classifier(_gcn(activation), num_features, hidden_units, dropout,
                            use_edge_weight, _check_num_classes(num_classes), "gcn")


@_node_spec("gat", "Graph attention network: multi-head attention over each node's incoming "
            "edges and itself (per-node stable softmax), heads concatenated.", _CITE_GAT,
            toy=_GAT_TOY, search_space=_gat_space)
def gat(num_features=16, hidden_units=(8, 8), num_heads=4, activation="elu", dropout=0.0,
        attention_dropout=0.0, num_classes=2):
    """GAT node classifier.

    Args:
        num_features: node feature width F.
        hidden_units: channels per head of each attention layer.
        num_heads: attention heads per layer (concatenated).
        activation: activation after each attention layer.
        dropout: dropout before each graph layer and before the head.
        attention_dropout: dropout on the attention weights.
        num_classes: softmax classes per node (label -1 = unlabelled).

    >>> model = zoo.build("gat", num_features=34, num_heads=8)
    """
    num_features, hidden_units, activation, dropout, _ = _check_common(
        num_features, hidden_units, activation, dropout, False)
    num_heads, attention_dropout = _check_gat(num_heads, attention_dropout)
    return _node_classifier(_gat(activation, num_heads, attention_dropout), num_features,
                            hidden_units, dropout, False, _check_num_classes(num_classes), "gat")


@_node_spec("graphsage", "GraphSAGE: each node's state concatenated with the mean of its "
            "neighbours', then a dense map; stacked.", _CITE_SAGE)
def graphsage(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
              use_edge_weight=False, num_classes=2):
    """GraphSAGE (mean aggregator) node classifier.

    Args:
        num_features: node feature width F.
        hidden_units: channels of each GraphSAGE layer.
        activation: activation after each layer.
        dropout: dropout before each graph layer and before the head.
        use_edge_weight: take an ``edge_weight`` input; the mean is weighted.
        num_classes: softmax classes per node (label -1 = unlabelled).

    >>> model = zoo.build("graphsage", num_features=34)
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    return _node_classifier(_sage(activation), num_features, hidden_units, dropout,
                            use_edge_weight, _check_num_classes(num_classes), "graphsage")


@_node_spec("gin", "Graph isomorphism network: sum over neighbours plus (1 + eps) times the "
            "node itself, through a two-layer MLP; eps learnable.", _CITE_GIN)
def gin(num_features=16, hidden_units=(32, 32), activation="relu", dropout=0.0,
        use_edge_weight=False, learn_epsilon=True, batch_norm=False, num_classes=2):
    """GIN node classifier.

    Args:
        num_features: node feature width F.
        hidden_units: width of each GIN layer (its MLP and output).
        activation: activation inside each MLP and after each layer.
        dropout: dropout before each graph layer and before the head.
        use_edge_weight: take an ``edge_weight`` input; the sum is weighted.
        learn_epsilon: learn eps (GIN-eps); False keeps eps = 0 (GIN-0).
        batch_norm: batch normalisation (over the nodes of the batch) inside
            each GIN layer's MLP, as in Xu et al.
        num_classes: softmax classes per node (label -1 = unlabelled).

    >>> model = zoo.build("gin", num_features=34)
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    learn_epsilon = _check_bool("learn_epsilon", learn_epsilon)
    batch_norm = _check_bool("batch_norm", batch_norm)
    return _node_classifier(_gin(activation, learn_epsilon, batch_norm), num_features, hidden_units,
                            dropout, use_edge_weight, _check_num_classes(num_classes), "gin")


# --- graph classification -------------------------------------------------------------------


@_graph_spec("gcn_graph_classifier", "GCN layers, then a mean, sum or max readout over each "
             "graph's nodes; softmax over each graph's classes.", _CITE_GCN)
def gcn_graph_classifier(num_features=16, hidden_units=(32, 32), activation="relu",
                         dropout=0.0, use_edge_weight=False, readout="mean", num_classes=2):
    """GCN graph classifier.

    Args:
        num_features: node feature width F.
        hidden_units: channels of each graph convolution.
        activation: activation after each graph convolution.
        dropout: dropout before each graph layer and before the head.
        use_edge_weight: take an ``edge_weight`` input and weight the sums.
        readout: ``mean``, ``sum`` or ``max`` over the nodes of each graph.
        num_classes: softmax classes per graph.

    >>> model = zoo.build("gcn_graph_classifier", num_features=1, readout="sum")
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    return _graph_classifier(_gcn(activation), num_features, hidden_units, dropout,
                             use_edge_weight, _check_num_classes(num_classes), readout,
                             "gcn_graph_classifier")


@_graph_spec("gat_graph_classifier", "GAT layers, then a mean, sum or max readout; softmax "
             "over each graph's classes.", _CITE_GAT, toy=_GAT_TOY,
             search_space=_gat_graph_space)
def gat_graph_classifier(num_features=16, hidden_units=(8, 8), num_heads=4, activation="elu",
                         dropout=0.0, attention_dropout=0.0, readout="mean", num_classes=2):
    """GAT graph classifier.

    Args:
        num_features: node feature width F.
        hidden_units: channels per head of each attention layer.
        num_heads: attention heads per layer (concatenated).
        activation: activation after each attention layer.
        dropout: dropout before each graph layer and before the head.
        attention_dropout: dropout on the attention weights.
        readout: ``mean``, ``sum`` or ``max`` over the nodes of each graph.
        num_classes: softmax classes per graph.

    >>> model = zoo.build("gat_graph_classifier", num_features=1)
    """
    num_features, hidden_units, activation, dropout, _ = _check_common(
        num_features, hidden_units, activation, dropout, False)
    num_heads, attention_dropout = _check_gat(num_heads, attention_dropout)
    return _graph_classifier(_gat(activation, num_heads, attention_dropout), num_features,
                             hidden_units, dropout, False, _check_num_classes(num_classes),
                             readout, "gat_graph_classifier")


@_graph_spec("graphsage_graph_classifier", "GraphSAGE layers, then a mean, sum or max "
             "readout; softmax over each graph's classes.", _CITE_SAGE)
def graphsage_graph_classifier(num_features=16, hidden_units=(32, 32), activation="relu",
                               dropout=0.0, use_edge_weight=False, readout="mean",
                               num_classes=2):
    """GraphSAGE graph classifier.

    Args:
        num_features: node feature width F.
        hidden_units: channels of each GraphSAGE layer.
        activation: activation after each layer.
        dropout: dropout before each graph layer and before the head.
        use_edge_weight: take an ``edge_weight`` input; the mean is weighted.
        readout: ``mean``, ``sum`` or ``max`` over the nodes of each graph.
        num_classes: softmax classes per graph.

    >>> model = zoo.build("graphsage_graph_classifier", num_features=1)
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    return _graph_classifier(_sage(activation), num_features, hidden_units, dropout,
                             use_edge_weight, _check_num_classes(num_classes), readout,
                             "graphsage_graph_classifier")


@_graph_spec("gin_graph_classifier", "GIN layers (sum aggregation, MLP, learnable eps), then "
             "a sum (default), mean or max readout; softmax over each graph's classes.",
             _CITE_GIN)
def gin_graph_classifier(num_features=16, hidden_units=(32, 32), activation="relu",
                         dropout=0.0, use_edge_weight=False, learn_epsilon=True,
                         batch_norm=True, readout="sum", num_classes=2):
    """GIN graph classifier.

    Args:
        num_features: node feature width F.
        hidden_units: width of each GIN layer (its MLP and output).
        activation: activation inside each MLP and after each layer.
        dropout: dropout before each graph layer and before the head.
        use_edge_weight: take an ``edge_weight`` input; the sum is weighted.
        learn_epsilon: learn eps (GIN-eps); False keeps eps = 0 (GIN-0).
        batch_norm: batch normalisation (over the nodes of the batch) inside
            each GIN layer's MLP, as in Xu et al.
        readout: ``sum``, ``mean`` or ``max`` over the nodes of each graph.
        num_classes: softmax classes per graph.

    >>> model = zoo.build("gin_graph_classifier", num_features=1)
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    learn_epsilon = _check_bool("learn_epsilon", learn_epsilon)
    batch_norm = _check_bool("batch_norm", batch_norm)
    return _graph_classifier(_gin(activation, learn_epsilon, batch_norm), num_features,
                             hidden_units, dropout, use_edge_weight,
                             _check_num_classes(num_classes),
                             readout, "gin_graph_classifier")


# --- link prediction ------------------------------------------------------------------------


@register_model(
    "graph_autoencoder",
    family="graph",
    task="link_prediction",
    inputs={**_NODE_INPUTS, "pair_index": "int32 [1, 2, P]: node pairs to score"},
    outputs={"link_probabilities": "float32 [1, P]: sigmoid(z_u . z_v) per pair"},
    description="Graph autoencoder: a GCN encoder (last layer linear) gives node "
                "embeddings z; an inner-product decoder scores node pairs, trained with "
                "binary cross-entropy on edges against non-edges.",
    citation="Kipf & Welling, Variational Graph Auto-Encoders, NIPS Workshop on Bayesian "
             "Deep Learning, 2016 (the non-variational GAE).",
    compiler=compile_link_predictor,
    search_space=_node_space,
    capabilities=Capabilities(input_kinds=("graph",)),
    sizes={"toy": {"num_features": 3, "hidden_units": (4, 3)}},
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

    >>> model = zoo.build("graph_autoencoder", num_features=1, hidden_units=(32, 16))
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = _check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    inputs = _inputs(num_features, use_edge_weight, pairs=True)
    h = _encode(inputs, _gcn(activation), hidden_units, dropout, last_activation=False)
    code = layers.Identity(name=CODE_LAYER_NAME)(h)
    pairs = MergeIndex(name="pairs")([inputs["pair_index"], inputs["node_features"]])
    scores = InnerProductDecoder(name="inner_product", dtype="float32")([code, pairs])
    outputs = SplitBatch(axis=2, name="link_probabilities", dtype="float32")(
        [scores, inputs["pair_index"]])
    return GraphModel(inputs, outputs, name="graph_autoencoder")
