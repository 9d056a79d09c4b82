"""What the graph models share: inputs, the encoder builder, heads, compiling,
example data, search spaces and the registration of a node/graph classifier pair.

A graph encoder is one builder per convolution (``gcn.py``, ``gat.py``,
``sage.py``, ``gin.py``, ...) that calls ``build_graph_classifier``
with its layer factory and a ``readout``: ``None`` gives a node classifier,
``"mean"``/``"sum"``/``"max"`` a graph classifier. ``register_graph_encoder``
registers that builder twice: as the node classifier ``<name>`` and as the
graph classifier ``<name>_graph_classifier`` (readout on by default).

Arguments every graph classifier builder takes (checked here):

- ``num_features``: node feature width F.
- ``hidden_units``: channels of each graph layer (one layer each, at least one).
- ``activation``: activation after each graph layer.
- ``dropout``: dropout before each graph layer and before the head.
- ``use_edge_weight``: take an ``edge_weight`` input and weight the aggregation.
- ``readout``: ``None`` (node classification: one softmax per node, label -1
  = unlabelled) or ``"mean"``, ``"sum"``, ``"max"`` over the nodes of each graph
  (graph classification: one softmax per graph).
- ``num_classes``: softmax classes per node or graph.
- ``output_layer``: ``"dense"`` (default: a dense softmax head over the last
  graph layer's states) or ``"graph"`` (node classifiers only: one more graph
  layer of the same kind maps the states to the class scores, as the GCN and
  GAT papers build their models; attention layers use one head there).
"""


import keras
import numpy as np
from keras import layers

from zoo import losses, search_spaces, validation
from zoo.constants import UNLABELLED
from zoo.model import CODE_LAYER_NAME
from zoo.models.graph.data import batch_graphs
from zoo.models.graph.layers import FlattenBatch, GraphReadout, MergeIndex, SplitBatch
from zoo.models.graph.layers.readout import READOUTS
from zoo.models.graph.model import GraphModel
from zoo.registry import Capabilities, register_model

# --- compiling ------------------------------------------------------------------------------


def compile_graph_classifier(model, learning_rate=1e-2, jit_compile="auto"):
    """Masked sparse cross-entropy and accuracy: label -1 is left out."""
    losses.compile_model(
        model, loss=losses.MaskedSparseCrossentropy(pad_id=UNLABELLED, from_logits=False),
        metrics=[losses.MaskedSparseAccuracy(pad_id=UNLABELLED, name="accuracy")],
        learning_rate=learning_rate, jit_compile=jit_compile)


def compile_link_predictor(model, learning_rate=1e-2, jit_compile="auto"):
    """Binary cross-entropy over node pairs, with accuracy and ROC-AUC."""
    losses.compile_model(model, loss=keras.losses.BinaryCrossentropy(),
                         metrics=[keras.metrics.BinaryAccuracy(name="accuracy"),
                                  keras.metrics.AUC(name="auc")],
                         learning_rate=learning_rate, jit_compile=jit_compile)


# --- building -------------------------------------------------------------------------------


def check_common(num_features, hidden_units, activation, dropout, use_edge_weight):
    """The arguments every graph builder takes, checked and normalised."""
    hidden_units = validation.positive_int_tuple("hidden_units", hidden_units)
    return (validation.positive_int("num_features", num_features),
            validation.non_empty("hidden_units", hidden_units, "at least one graph layer"),
            validation.activation("activation", activation), validation.rate("dropout", dropout),
            validation.boolean("use_edge_weight", use_edge_weight))


def graph_inputs(num_features, use_edge_weight, graph_level=False, pairs=False):
    """The named ``keras.Input``s of a graph model (see ``zoo.models.graph.data``)."""
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


def encode(inputs, layer, prefix, hidden_units, activation, dropout, last_activation=True,
           layer_options=None):
    """Merged node states ``[N, D]`` after the graph layers.

    Graph layer ``i`` is ``layer(hidden_units[i], activation=activation,
    name=f"{prefix}_{i}", **layer_options)``; the last one is linear unless
    ``last_activation``.
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
        h = layer(units, activation=None if last and not last_activation else activation,
                  name=f"{prefix}_{i}", **(layer_options or {}))([h, *graph])
    return h


#: The heads of a graph classifier (``output_layer``).
OUTPUT_LAYERS = ("dense", "graph")


def build_graph_classifier(layer, prefix, num_features, hidden_units, activation, dropout,
                           use_edge_weight, readout, num_classes, layer_options=None,
                           output_layer="dense", output_options=None):
    """A node (``readout=None``) or graph classifier over graph layers of class ``layer``.

    The layers are named ``<prefix>_<i>`` and built with ``layer_options``
    on top of their width and activation (see ``encode``). The embeddings
    (per node, or per graph after the readout) pass through the layer named
    ``code``; the head is a float32 softmax: a dense layer, or with
    ``output_layer="graph"`` one more graph layer ``<prefix>_output`` (built
    with ``output_options`` over ``layer_options``). The model is named
    ``prefix`` (node classifier) or ``<prefix>_graph_classifier``.
    """
    num_features, hidden_units, activation, dropout, use_edge_weight = check_common(
        num_features, hidden_units, activation, dropout, use_edge_weight)
    num_classes = validation.num_classes("num_classes", num_classes)
    validation.choice("readout", readout, READOUTS + (None,))
    validation.choice("output_layer", output_layer, OUTPUT_LAYERS)
    if output_layer == "graph" and readout is not None:
        raise ValueError(f"output_layer='graph' classifies nodes; a graph classifier (readout "
                         f"{readout!r}) ends in a dense head. Received: output_layer="
                         f"{output_layer!r}, readout={readout!r}")
    inputs = graph_inputs(num_features, use_edge_weight, graph_level=readout is not None)
    states = encode(inputs, layer, prefix, hidden_units, activation, dropout,
                    layer_options=layer_options)
    reference, level, name = inputs["node_features"], "node", prefix
    if readout is not None:
        graph_ids = MergeIndex(pairs=False, name="graph_ids_merged")(
            [inputs["graph_ids"], inputs["graph_sizes"]])
        sizes = FlattenBatch(name="graphs")(inputs["graph_sizes"])
        states = GraphReadout(readout, name=f"{readout}_readout")([states, graph_ids, sizes])
        reference, level, name = inputs["graph_sizes"], "graph", f"{prefix}_graph_classifier"
    code = layers.Identity(name=CODE_LAYER_NAME)(states)
    x = layers.Dropout(dropout, name="head_dropout")(code) if dropout else code
    if output_layer == "graph":
        graph = [MergeIndex(name="output_edges")([inputs["edge_index"],
                                                 inputs["node_features"]])]
        if "edge_weight" in inputs:
            graph.append(FlattenBatch(name="output_edge_weights")(inputs["edge_weight"]))
        x = layer(num_classes, activation=None, name=f"{prefix}_output",
                  **{**(layer_options or {}), **(output_options or {})})([x, *graph])
        x = layers.Softmax(dtype="float32", name="classifier")(x)
    else:
        x = layers.Dense(num_classes, activation="softmax", dtype="float32",
                         name="classifier")(x)
    outputs = SplitBatch(name=f"{level}_probabilities", dtype="float32")([x, reference])
    return GraphModel(inputs, outputs, name=name)


# --- example data ---------------------------------------------------------------------------


def random_graph(rng, num_nodes, num_features, edge_weight=False):
    """A connected random graph dict: a ring plus ``num_nodes // 2`` random chords
    (both directions of every edge), normal node features.

    >>> import zoo
    >>> import numpy as np
    >>> from zoo.models.graph.common import random_graph
    >>> random_graph(np.random.default_rng(0), 5, 3)["node_features"].shape
    (5, 3)
    """
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


def node_space(hp, low=8, high=128):
    """Depth, one width for every layer, dropout and the graph learning rate."""
    num_layers = search_spaces.depth(hp)
    units = search_spaces.width(hp, "units", low, high)
    return {"hidden_units": (units,) * num_layers, "dropout": search_spaces.dropout(hp),
            "learning_rate": search_spaces.learning_rate(hp, "graph")}


def with_readout(space):
    """``space`` plus a searched ``readout`` (the graph classifiers' space)."""
    def graph_space(hp):
        return {**space(hp), "readout": hp.Choice("readout", list(READOUTS))}
    return graph_space


# --- registration ---------------------------------------------------------------------------

NODE_INPUTS = {
    "node_features": "float32 [1, N, num_features]",
    "edge_index": "int32 [1, 2, E]: source and target node ids in [0, N)",
    "edge_weight": "float32 [1, E] (only with use_edge_weight=True)",
}
NODE_OUTPUTS = {"node_probabilities": "float32 [1, N, num_classes]; label -1 = unlabelled"}
GRAPH_INPUTS = {
    **NODE_INPUTS,
    "graph_ids": "int32 [1, N]: graph of each node, in [0, G)",
    "graph_sizes": "int32 [1, G]: nodes per graph (gives G statically)",
}
GRAPH_OUTPUTS = {"graph_probabilities": "float32 [1, G, num_classes]; label -1 = ignored"}
TOY = {"num_features": 3, "hidden_units": (4, 4), "num_classes": 3}
NODE_SMALL = {"hidden_units": (16, 16), "learning_rate": 1e-2}
GRAPH_SMALL = {"hidden_units": (32, 32), "learning_rate": 1e-2}
READOUT_CITATION = " Readout: Xu et al., ICLR 2019."


def register_graph_encoder(name, *, description, graph_description, citation,
                           graph_citation=None, toy=None, bench=None, search_space=node_space,
                           graph_defaults=None):
    """Decorator: register a builder as ``name`` and ``<name>_graph_classifier``.

    The builder takes ``readout`` (default ``None``: node classification);
    the graph classifier entry defaults it to ``"mean"`` (and whatever
    ``graph_defaults`` sets), and has the graph inputs, outputs, task,
    example data and a search space that also searches the readout.

    Args:
        name: registry name of the node classifier.
        description, graph_description: one or two sentences each.
        citation: where the layer comes from; ``graph_citation`` defaults
            to it plus the readout's citation.
        toy: ``toy`` size overrides on top of the family's toy size.
        bench: the ``bench`` size of the node classifier, if it has one.
        search_space: the node classifier's search space.
        graph_defaults: defaults that differ for the graph classifier.
    """
    toy = {**TOY, **(toy or {})}
    node_sizes = {"toy": toy, "small": NODE_SMALL, **({"bench": bench} if bench else {})}

    def decorator(builder):
        graph_classifier = {
            "readout": "mean", **(graph_defaults or {}),
            "task": "graph_classification", "inputs": GRAPH_INPUTS, "outputs": GRAPH_OUTPUTS,
            "description": graph_description,
            "citation": graph_citation or citation + READOUT_CITATION,
            "example_data": graph_example_data, "search_space": with_readout(search_space),
            "capabilities": {"node_level": False},
            "sizes": {"small": GRAPH_SMALL, "bench": None},
        }
        register_model(
            name, family="graph", task="node_classification", inputs=NODE_INPUTS,
            outputs=NODE_OUTPUTS, description=description, citation=citation,
            compiler=compile_graph_classifier, search_space=search_space,
            capabilities=Capabilities(input_kinds=("graph",), node_level=True),
            sizes=node_sizes, example_data=node_example_data,
            presets={f"{name}_graph_classifier": graph_classifier})(builder)
        return builder

    return decorator
