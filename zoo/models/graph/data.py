"""Graph batches: the input format of the graph family, helpers and checks.

networkx is optional: only ``to_networkx`` imports it.

A single graph is a dict of NumPy arrays::

    {"node_features": float [N, F],
     "edge_index": int [2, E],        # row 0: source, row 1: target
     "edge_weight": float [E]}        # optional

(or a networkx graph, see ``from_networkx``). Messages flow from source to
target; list both directions for an undirected edge (``from_networkx``
does).

A *graph batch* is the disjoint union of one or more graphs, with a leading
batch axis of 1 on every field so that ``model.fit``/``evaluate``/``predict``
see one sample per graph batch (all fields share the leading axis)::

    node_features  float32 [1, N, F]
    edge_index     int32   [1, 2, E]    node ids in [0, N), offset per graph
    edge_weight    float32 [1, E]       only when the model has use_edge_weight=True
    graph_ids      int32   [1, N]       graph of each node, in [0, G)   (graph tasks)
    graph_sizes    int32   [1, G]       nodes per graph                  (graph tasks)
    pair_index     int32   [1, 2, P]    node pairs to score              (link prediction)

``graph_sizes`` is what tells a compiled model the number of graphs ``G``
as a static shape (JAX needs static segment counts); its values must
match ``graph_ids``. Several graph batches of identical shapes may be
stacked on the leading axis; models treat them as one bigger disjoint
union. Targets carry the same leading axis: ``[1, N]`` node labels,
``[1, G]`` graph labels, ``[1, P]`` pair labels.
"""

import keras
import numpy as np

from zoo.model import ValueRange, check_values

FIELDS = {
    # name: (rank with the batch axis, "float" or "int", shape text)
    "node_features": (3, "float", "[batch, num_nodes, num_features]"),
    "edge_index": (3, "int", "[batch, 2, num_edges]"),
    "edge_weight": (2, "float", "[batch, num_edges]"),
    "graph_ids": (2, "int", "[batch, num_nodes]"),
    "graph_sizes": (2, "int", "[batch, num_graphs]"),
    "pair_index": (3, "int", "[batch, 2, num_pairs]"),
}


# --- checks -----------------------------------------------------------------------------------


def _dtype(value):
    return keras.backend.standardize_dtype(value.dtype)


def _shape(value):
    return tuple(value.shape)


def check_graph_batch(batch, required=("node_features", "edge_index"), num_features=None,
                      check_values=True):
    """Check a graph batch; return ``{name: value}`` for the ``required`` fields.

    Static properties (which fields are there, ranks, dtypes, matching
    sizes) are always checked; with ``check_values`` the values are checked
    too (index ranges, ``graph_ids`` against ``graph_sizes``, finite
    weights): pass NumPy arrays or eager tensors then. Graph models run
    this check on every call, with values where they are NumPy arrays, and
    on the data given to ``fit``/``evaluate``/``predict``.

    Args:
        batch: dict of arrays in the format of this module.
        required: the fields the model needs; others are ignored.
        num_features: expected ``node_features.shape[-1]`` (or None).
        check_values: also check the values.

    Raises:
        ValueError: a field is missing, has the wrong rank, dtype or size,
            or an index is out of range. The message ends with what was
            received.

    >>> import zoo
    >>> import numpy as np
    >>> graph = {"node_features": np.ones((3, 2)), "edge_index": np.array([[0, 1], [1, 2]])}
    >>> sorted(zoo.check_graph_batch(zoo.batch_graphs([graph])))
    ['edge_index', 'node_features']
    """
    if not isinstance(batch, dict):
        raise ValueError("A graph batch must be a dict of arrays with the fields "
                         f"{', '.join(required)}. Received: inputs={type(batch).__name__}")
    missing = [name for name in required if name not in batch or batch[name] is None]
    if missing:
        hint = (" Graph-level models need the graph of every node (`graph_ids`) and the node "
                "count of every graph (`graph_sizes`); zoo.batch_graphs() makes both."
                if {"graph_ids", "graph_sizes"} & set(missing) else "")
        raise ValueError(f"The graph batch lacks {', '.join(map(repr, missing))}.{hint} "
                         f"Received: keys={sorted(batch)}")
    fields = {name: batch[name] for name in required}
    for name, value in fields.items():
        if not hasattr(value, "shape") or not hasattr(value, "dtype"):
            value = fields[name] = np.asarray(value)
        rank, kind, text = FIELDS[name]
        if len(value.shape) != rank:
            raise ValueError(f"`{name}` must have shape {text} (the leading batch axis is "
                             f"usually 1). Received: {name}.shape={_shape(value)}")
        dtype = _dtype(value)
        is_int = "int" in dtype
        if (kind == "int") != is_int or dtype == "bool":
            wanted = "an integer" if kind == "int" else "a floating-point"
            raise ValueError(f"`{name}` must be {wanted} array. Received: {name}.dtype={dtype!r}")
        if rank == 3 and name != "node_features" and value.shape[1] not in (2, None):
            raise ValueError(f"`{name}` must have shape {text}: row 0 sources, row 1 targets. "
                             f"Received: {name}.shape={_shape(value)}")
    nodes = fields["node_features"]
    if num_features is not None and nodes.shape[-1] not in (None, num_features):
        raise ValueError(f"`node_features` must have num_features={num_features} columns. "
                         f"Received: node_features.shape={_shape(nodes)}")
    _check_sizes(fields)
    if check_values:
        check_graph_values({name: _to_numpy(value) for name, value in fields.items()})
    return fields


def _known(*sizes):
    """Whether every size is a plain int: ``None`` and symbolic sizes (JAX and
    torch exports give each input's unknown axes their own symbols) are not
    compared."""
    return all(isinstance(size, (int, np.integer)) for size in sizes)


def _check_sizes(fields):
    nodes = fields["node_features"].shape
    for name, other, other_axis, noun in (("edge_weight", "edge_index", 2, "edge"),
                                          ("graph_ids", "node_features", 1, "node")):
        if name in fields:
            size, expected = fields[name].shape[1], fields[other].shape[other_axis]
            if _known(size, expected) and size != expected:
                raise ValueError(f"`{name}` must have one entry per {noun} ({expected}). "
                                 f"Received: {name}.shape={_shape(fields[name])}")
    for name, value in fields.items():
        if _known(value.shape[0], nodes[0]) and value.shape[0] != nodes[0]:
            raise ValueError(f"Every field needs the same leading batch axis as node_features "
                             f"({nodes[0]}). Received: {name}.shape={_shape(value)}")


def _to_numpy(value):
    if isinstance(value, np.ndarray):
        return value
    return keras.ops.convert_to_numpy(value)


def check_graph_values(fields, ranges=True):
    """The value checks of ``check_graph_batch`` on NumPy ``fields``.

    ``ranges``: also check the index ranges (``GraphModel`` leaves them to
    ``ZooModel.check_data``, which checks tensors and datasets too).
    """
    if ranges:
        num_nodes = fields["node_features"].shape[1]
        for name in ("edge_index", "pair_index"):
            if name in fields:
                _check_range(name, fields[name], num_nodes, "node ids", "num_nodes")
        if "graph_ids" in fields and "graph_sizes" in fields:
            _check_range("graph_ids", fields["graph_ids"], fields["graph_sizes"].shape[1],
                         "graph ids", "num_graphs")
    if "edge_weight" in fields and not np.isfinite(fields["edge_weight"]).all():
        bad = fields["edge_weight"][~np.isfinite(fields["edge_weight"])][0]
        raise ValueError(f"`edge_weight` must be finite. Received: edge_weight={float(bad)!r}")
    if "graph_sizes" in fields and "graph_ids" in fields:
        sizes, ids = fields["graph_sizes"], fields["graph_ids"]
        num_graphs = sizes.shape[1]
        counts = np.stack([np.bincount(row, minlength=num_graphs) for row in ids])
        if not np.array_equal(counts, sizes):
            raise ValueError("`graph_sizes` must count the nodes of each graph in "
                             f"`graph_ids` ({counts.tolist()}). "
                             f"Received: graph_sizes={sizes.tolist()}")


def _check_range(name, value, size, what, size_name):
    check_values(name, np.asarray(value), ValueRange(0, size, what=what,
                                                     why=f"{size_name}={size}"))


# --- single graphs ----------------------------------------------------------------------------


def from_networkx(graph, feature_key=None, weight_key=None):
    """A graph dict from a networkx graph (nodes numbered in ``graph.nodes`` order).

    Args:
        graph: a networkx ``Graph`` (each edge becomes two directed edges)
            or ``DiGraph`` (edges kept as they are).
        feature_key: node attribute holding a feature vector (or number);
            ``None`` gives every node the single feature 1.0.
        weight_key: edge attribute to use as ``edge_weight`` (missing
            values count as 1.0); ``None`` gives no ``edge_weight``.

    >>> import zoo
    >>> import networkx as nx
    >>> zoo.from_networkx(nx.cycle_graph(5))["edge_index"].shape  # 10 directed edges
    (2, 10)
    """
    if not (hasattr(graph, "nodes") and hasattr(graph, "edges")
            and hasattr(graph, "is_directed")):
        raise ValueError(f"`graph` must be a networkx graph. Received: graph={graph!r}")
    order = {node: i for i, node in enumerate(graph.nodes)}
    if feature_key is None:
        features = np.ones((len(order), 1), "float32")
    else:
        try:
            rows = [np.atleast_1d(np.asarray(data[feature_key], "float32"))
                    for _, data in graph.nodes(data=True)]
        except KeyError:
            raise ValueError(f"Every node needs the attribute {feature_key!r}. "
                             f"Received: feature_key={feature_key!r}") from None
        features = np.stack(rows).reshape(len(order), -1) if rows else np.zeros((0, 1),
                                                                                 "float32")
    sources, targets, weights = [], [], []
    for u, v, data in graph.edges(data=True):
        pairs = [(u, v)] if graph.is_directed() or u == v else [(u, v), (v, u)]
        for a, b in pairs:
            sources.append(order[a])
            targets.append(order[b])
            weights.append(float(data.get(weight_key, 1.0)) if weight_key else 1.0)
    result = {"node_features": features.astype("float32"),
              "edge_index": np.array([sources, targets], "int32").reshape(2, -1)}
    if weight_key is not None:
        result["edge_weight"] = np.array(weights, "float32")
    return result


def to_networkx(graph):
    """A networkx ``DiGraph`` from a graph dict (node attribute ``features``,
    edge attribute ``weight`` when the dict has ``edge_weight``)."""
    import networkx as nx  # optional: only needed here

    graph = _as_graph(graph, 0)
    result = nx.DiGraph()
    for i, row in enumerate(graph["node_features"]):
        result.add_node(i, features=row)
    weights = graph.get("edge_weight")
    for k, (u, v) in enumerate(graph["edge_index"].T):
        result.add_edge(int(u), int(v), **({} if weights is None else
                                            {"weight": float(weights[k])}))
    return result


def _as_graph(graph, position):
    if hasattr(graph, "nodes") and hasattr(graph, "is_directed"):
        return from_networkx(graph)
    if not isinstance(graph, dict) or "node_features" not in graph or "edge_index" not in graph:
        raise ValueError("Each graph must be a networkx graph or a dict with node_features "
                         f"[N, F] and edge_index [2, E]. Received: graphs[{position}]="
                         f"{type(graph).__name__}")
    nodes = np.asarray(graph["node_features"])
    edges = np.asarray(graph["edge_index"])
    if nodes.ndim != 2:
        raise ValueError("`node_features` of a graph must be [num_nodes, num_features]. "
                         f"Received: graphs[{position}].node_features.shape={nodes.shape}")
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise ValueError("`edge_index` of a graph must be [2, num_edges]. "
                         f"Received: graphs[{position}].edge_index.shape={edges.shape}")
    if edges.size and not np.issubdtype(edges.dtype, np.integer):
        raise ValueError("`edge_index` must hold integer node ids. "
                         f"Received: graphs[{position}].edge_index.dtype={str(edges.dtype)!r}")
    if edges.size and (edges.min() < 0 or edges.max() >= len(nodes)):
        bad = edges[(edges < 0) | (edges >= len(nodes))][0]
        raise ValueError(f"`edge_index` holds node ids outside [0, {len(nodes)}) "
                         f"(num_nodes={len(nodes)}). Received: "
                         f"graphs[{position}].edge_index={int(bad)}")
    result = {"node_features": nodes.astype("float32"), "edge_index": edges.astype("int32")}
    if graph.get("edge_weight") is not None:
        weights = np.asarray(graph["edge_weight"], "float32")
        if weights.shape != (edges.shape[1],):
            raise ValueError("`edge_weight` must have one entry per edge. Received: "
                             f"graphs[{position}].edge_weight.shape={weights.shape}")
        result["edge_weight"] = weights
    return result


# --- batches ----------------------------------------------------------------------------------


def batch_graphs(graphs, pairs=None):
    """One graph batch (the disjoint union, leading axis 1) from a list of graphs.

    Args:
        graphs: graph dicts or networkx graphs, all with the same number of
            node features. ``edge_weight`` is included when any graph has
            one (1.0 for the edges of graphs without).
        pairs: optional list (one per graph) of int ``[2, P_i]`` node pairs
            in each graph's own numbering, for link prediction; they become
            ``pair_index``.

    Returns:
        dict with ``node_features``, ``edge_index``, ``graph_ids``,
        ``graph_sizes`` (and ``edge_weight``, ``pair_index``) as described
        in this module.

    >>> import zoo
    >>> import numpy as np
    >>> path = {"node_features": np.ones((3, 2)), "edge_index": np.array([[0, 1], [1, 2]])}
    >>> single = {"node_features": np.ones((1, 2)), "edge_index": np.zeros((2, 0), int)}
    >>> zoo.batch_graphs([path, single])["graph_ids"].tolist()
    [[0, 0, 0, 1]]
    """
    if isinstance(graphs, dict) or not hasattr(graphs, "__iter__"):
        raise ValueError(f"`graphs` must be a list of graphs. Received: graphs={graphs!r}")
    graphs = [_as_graph(graph, i) for i, graph in enumerate(graphs)]
    if not graphs:
        raise ValueError("`graphs` must hold at least one graph. Received: graphs=[]")
    widths = {graph["node_features"].shape[1] for graph in graphs}
    if len(widths) > 1:
        raise ValueError("Every graph needs the same number of node features. "
                         f"Received: num_features={sorted(widths)}")
    if pairs is not None and (isinstance(pairs, dict) or len(pairs) != len(graphs)):
        raise ValueError("`pairs` must hold one [2, P] array per graph. "
                         f"Received: len(pairs)={len(pairs)} for {len(graphs)} graphs")
    sizes = np.array([len(graph["node_features"]) for graph in graphs], "int32")
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("int32")
    batch = {
        "node_features": np.concatenate([g["node_features"] for g in graphs])[None],
        "edge_index": np.concatenate([g["edge_index"] + o for g, o in zip(graphs, offsets)],
                                     axis=1)[None],
        "graph_ids": np.repeat(np.arange(len(graphs), dtype="int32"), sizes)[None],
        "graph_sizes": sizes[None],
    }
    if any("edge_weight" in g for g in graphs):
        batch["edge_weight"] = np.concatenate([
            g.get("edge_weight", np.ones(g["edge_index"].shape[1], "float32"))
            for g in graphs])[None]
    if pairs is not None:
        merged = []
        for i, (pair, graph, offset) in enumerate(zip(pairs, graphs, offsets)):
            pair = np.asarray(pair)
            if pair.ndim != 2 or pair.shape[0] != 2 or not (
                    pair.size == 0 or np.issubdtype(pair.dtype, np.integer)):
                raise ValueError("Each entry of `pairs` must be an int [2, P] array. "
                                 f"Received: pairs[{i}].shape={pair.shape}")
            _check_range(f"pairs[{i}]", pair, len(graph["node_features"]), "node ids",
                         "num_nodes")
            merged.append(pair.astype("int32") + offset)
        batch["pair_index"] = np.concatenate(merged, axis=1)[None]
    return batch


def unbatch_graphs(batch):
    """The list of graph dicts in a graph batch (inverse of ``batch_graphs``).

    Node order within each graph and edge order are kept; a batch with a
    leading axis above 1 is read as stacked batches, one after the other.

    >>> import zoo
    >>> import numpy as np
    >>> path = {"node_features": np.ones((3, 2)), "edge_index": np.array([[0, 1], [1, 2]])}
    >>> [g["edge_index"].tolist() for g in zoo.unbatch_graphs(zoo.batch_graphs([path, path]))]
    [[[0, 1], [1, 2]], [[0, 1], [1, 2]]]
    """
    present = batch if isinstance(batch, dict) else {}
    required = ["node_features", "edge_index"] + (["edge_weight"] if "edge_weight" in present
                                                  else [])
    if "graph_ids" in present:
        required += ["graph_ids", "graph_sizes"]
    fields = check_graph_batch(batch, required=required)
    fields = {name: _to_numpy(value) for name, value in fields.items()}
    graphs = []
    for b in range(fields["node_features"].shape[0]):
        nodes = fields["node_features"][b]
        ids = (fields["graph_ids"][b] if "graph_ids" in fields
               else np.zeros(len(nodes), "int32"))
        num_graphs = fields["graph_sizes"].shape[1] if "graph_sizes" in fields else 1
        edges = fields["edge_index"][b]
        for g in range(num_graphs):
            members = np.flatnonzero(ids == g)
            local = np.full(len(nodes), -1, "int64")
            local[members] = np.arange(len(members))
            keep = ids[edges[1]] == g
            graph = {"node_features": nodes[members],
                     "edge_index": local[edges[:, keep]].astype("int32")}
            if "edge_weight" in fields:
                graph["edge_weight"] = fields["edge_weight"][b][keep]
            graphs.append(graph)
    return graphs


def split_node_values(batch, values):
    """Per-graph pieces of per-node ``values`` (``[1, N, ...]`` or ``[N, ...]``),
    e.g. a node classifier's probabilities, in graph order.

    >>> import zoo
    >>> import numpy as np
    >>> path = {"node_features": np.ones((3, 2)), "edge_index": np.array([[0, 1], [1, 2]])}
    >>> batch = zoo.batch_graphs([path, path])
    >>> [piece.tolist() for piece in zoo.split_node_values(batch, np.arange(6)[None])]
    [[0, 1, 2], [3, 4, 5]]
    """
    fields = check_graph_batch(batch, required=("node_features", "edge_index", "graph_ids",
                                                "graph_sizes"), check_values=False)
    ids = _to_numpy(fields["graph_ids"]).reshape(-1)
    num_graphs = fields["graph_sizes"].shape[1]
    values = _to_numpy(values)
    if values.shape[0] != len(ids):
        values = values.reshape((len(ids),) + values.shape[2:])
    offsets = np.arange(fields["graph_ids"].shape[0]).repeat(fields["graph_ids"].shape[1])
    global_ids = ids + offsets * num_graphs
    return [values[global_ids == g] for g in range(fields["graph_ids"].shape[0] * num_graphs)]
