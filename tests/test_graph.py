"""Graph family: layers against NumPy references, permutation equivariance,
batching helpers, learning (karate club, cycles vs trees, held-out links) and
bad input.

The learning tests print their numbers (run with ``-s`` to see them). They
train on one graph batch: ``_repeat`` stacks ``steps`` copies of it on the
leading axis so that one ``fit(..., batch_size=1)`` call makes ``steps``
full-batch updates without Keras' per-epoch overhead.
"""

import keras
import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import zoo
from zoo.graph import GraphModel, random_graph
from zoo.layers.graph import (GCNConv, GINConv, GraphAttention, GraphReadout, GraphSAGEConv,
                              InnerProductDecoder)

GRAPH_MODELS = zoo.list_models(family="graph")
BACKEND = keras.backend.backend()


def _numpy(x):
    if isinstance(x, dict):
        return {key: keras.ops.convert_to_numpy(value) for key, value in x.items()}
    return keras.ops.convert_to_numpy(x)


def _toy(name, **overrides):
    return zoo.build(name, **{**zoo.get_spec(name).toy, **overrides})


def _data(model, n, seed=0):
    return zoo.get_spec(model.zoo_name).example_data(model.zoo_config, n, seed)


def _repeat(batch, steps):
    return {key: np.repeat(value, steps, axis=0) for key, value in batch.items()}


# --- layers against NumPy -----------------------------------------------------------------------

# 6 nodes; node 5 has no incoming edge, node 0 has three.
SOURCES = np.array([1, 2, 3, 0, 0, 2, 5, 4], "int32")
TARGETS = np.array([0, 0, 0, 1, 2, 3, 4, 3], "int32")
EDGES = np.stack([SOURCES, TARGETS])
WEIGHTS = np.array([0.5, 1.0, 2.0, 1.5, 0.3, 1.0, 0.7, 1.2], "float32")
X = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")


def _weights(layer):
    return [_numpy(w) for w in layer.weights]


@pytest.mark.parametrize("weighted", [False, True])
def test_gcn_conv_is_the_normalised_adjacency_product(weighted):
    layer = GCNConv(4, bias_initializer="random_normal")
    w = WEIGHTS if weighted else np.ones(len(SOURCES), "float32")
    out = _numpy(layer([X, EDGES, WEIGHTS] if weighted else [X, EDGES]))
    kernel, bias = _weights(layer)
    adjacency = np.eye(6)
    np.add.at(adjacency, (TARGETS, SOURCES), w)
    scale = 1 / np.sqrt(adjacency.sum(1))
    expected = (scale[:, None] * adjacency * scale[None, :]) @ X @ kernel + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def _attention_reference(x, kernel, a_source, a_target, bias, heads, units):
    z = (x @ kernel).reshape(len(x), heads, units)
    sources = np.concatenate([SOURCES, np.arange(len(x))])
    targets = np.concatenate([TARGETS, np.arange(len(x))])
    scores = (z[sources] * a_source).sum(-1) + (z[targets] * a_target).sum(-1)
    scores = np.where(scores > 0, scores, 0.2 * scores)
    out = np.zeros_like(z)
    for node in range(len(x)):
        incoming = targets == node
        alpha = np.exp(scores[incoming] - scores[incoming].max(0))
        alpha /= alpha.sum(0)
        out[node] = (alpha[:, :, None] * z[sources[incoming]]).sum(0)
    return out.reshape(len(x), -1) + bias


def test_graph_attention_is_a_per_node_softmax_and_stable():
    layer = GraphAttention(2, num_heads=3, bias_initializer="random_normal")
    out = _numpy(layer([X, EDGES]))
    expected = _attention_reference(X, *_weights(layer), heads=3, units=2)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    # Scores in the thousands overflow a naive exp; the shifted softmax stays finite.
    assert np.isfinite(_numpy(layer([X * 1e4, EDGES]))).all()
    averaged = GraphAttention(2, num_heads=3, concat_heads=False)
    assert _numpy(averaged([X, EDGES])).shape == (6, 2)


def test_graphsage_concatenates_self_with_the_neighbour_mean():
    layer = GraphSAGEConv(4, bias_initializer="random_normal")
    out = _numpy(layer([X, EDGES, WEIGHTS]))
    kernel, bias = _weights(layer)
    mean = np.zeros_like(X)
    for node in range(6):
        incoming = TARGETS == node
        if incoming.any():
            w = WEIGHTS[incoming]
            mean[node] = (w[:, None] * X[SOURCES[incoming]]).sum(0) / w.sum()
    expected = np.concatenate([X, mean], -1) @ kernel + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    normalised = _numpy(GraphSAGEConv(4, normalize=True)([X, EDGES]))
    np.testing.assert_allclose(np.linalg.norm(normalised, axis=-1), 1.0, rtol=1e-5)


def test_gin_conv_sums_neighbours_with_one_plus_epsilon_self():
    layer = GINConv(4, epsilon=0.25, bias_initializer="random_normal")
    out = _numpy(layer([X, EDGES]))
    k1, b1, k2, b2, eps = _weights(layer)
    assert eps == pytest.approx(0.25)
    total = np.zeros_like(X)
    np.add.at(total, TARGETS, X[SOURCES])
    hidden = np.maximum(((1 + eps) * X + total) @ k1 + b1, 0)
    np.testing.assert_allclose(out, hidden @ k2 + b2, rtol=1e-5, atol=1e-5)
    frozen = GINConv(4, learn_epsilon=False)
    frozen([X, EDGES])
    assert len(frozen.trainable_weights) == 4 and len(frozen.non_trainable_weights) == 1
    # With batch_norm the hidden layer is normalised over the nodes in training.
    normed = GINConv(4, batch_norm=True, activation=None)
    normed([X, EDGES])
    k1, k2, b2, eps, gamma, beta, mean, var = _weights(normed)
    pre = ((1 + eps) * X + total) @ k1
    hidden = np.maximum((pre - pre.mean(0)) / np.sqrt(pre.var(0) + 1e-3), 0)
    np.testing.assert_allclose(_numpy(normed([X, EDGES], training=True)), hidden @ k2 + b2,
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_readout_pools_each_graph_and_zeros_an_empty_one(mode):
    ids = np.array([0, 0, 2, 2, 2, 0], "int32")  # graph 1 has no node
    out = _numpy(GraphReadout(mode)([X, ids, np.zeros(3, "int32")]))
    reduce = {"mean": np.mean, "sum": np.sum, "max": np.max}[mode]
    np.testing.assert_allclose(out[0], reduce(X[ids == 0], 0), rtol=1e-5)
    np.testing.assert_allclose(out[2], reduce(X[ids == 2], 0), rtol=1e-5)
    np.testing.assert_array_equal(out[1], 0.0)


def test_inner_product_decoder_scores_pairs():
    pairs = np.array([[0, 1, 5], [2, 1, 3]], "int32")
    out = _numpy(InnerProductDecoder()([X, pairs]))
    expected = 1 / (1 + np.exp(-(X[pairs[0]] * X[pairs[1]]).sum(-1)))
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_layers_round_trip_their_config():
    for layer in (GCNConv(3, activation="relu"), GraphSAGEConv(3, normalize=True),
                  GINConv(3, epsilon=0.5, learn_epsilon=False, mlp_activation="tanh",
                          batch_norm=True),
                  GraphAttention(2, num_heads=2, concat_heads=False, attention_dropout=0.1,
                                 seed=3), GraphReadout("max"), InnerProductDecoder(None)):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


# --- permutation equivariance ---------------------------------------------------------------------

EQUIVARIANCE_CASES = [(name, {}) for name in GRAPH_MODELS] + [
    ("gcn", {"use_edge_weight": True}),
    ("graph_autoencoder", {"use_edge_weight": True}),
    ("gin_graph_classifier", {"readout": "max", "use_edge_weight": True}),
    ("graphsage_graph_classifier", {"readout": "sum"}),
]
MAX_DIFFERENCES = {}


def _permuted(x, perm, rng):
    """Node ``i`` of the result is node ``perm[i]`` of ``x``; edges are shuffled too."""
    new_id = np.argsort(perm)
    out = dict(x)
    out["node_features"] = x["node_features"][:, perm]
    shuffle = rng.permutation(x["edge_index"].shape[2])
    out["edge_index"] = new_id[x["edge_index"]][:, :, shuffle]
    if "edge_weight" in x:
        out["edge_weight"] = x["edge_weight"][:, shuffle]
    if "graph_ids" in x:
        out["graph_ids"] = x["graph_ids"][:, perm]
    if "pair_index" in x:
        out["pair_index"] = new_id[x["pair_index"]]
    return out


@pytest.mark.parametrize("name,overrides", EQUIVARIANCE_CASES,
                         ids=[f"{n}-{'-'.join(map(str, o.values())) or 'default'}"
                              for n, o in EQUIVARIANCE_CASES])
def test_relabelling_nodes_permutes_node_outputs_only(name, overrides):
    model = _toy(name, **overrides)
    x, _ = _data(model, 7, seed=3)
    rng = np.random.default_rng(1)
    perm = rng.permutation(x["node_features"].shape[1])
    relabelled = _permuted(x, perm, rng)
    encoder = zoo.encoder(model)
    enc_inputs = lambda batch: {t.name: batch[t.name] for t in encoder.inputs}  # noqa: E731
    out, out_perm = _numpy(model(x)), _numpy(model(relabelled))
    code, code_perm = _numpy(encoder(enc_inputs(x))), _numpy(encoder(enc_inputs(relabelled)))
    task = zoo.get_spec(name).task
    if task == "node_classification":
        out = out[:, perm]
    if task != "graph_classification":
        code = code[perm]
    difference = max(np.abs(out - out_perm).max(), np.abs(code - code_perm).max())
    MAX_DIFFERENCES[f"{name}{overrides or ''}"] = float(difference)
    print(f"\n[{BACKEND}] permutation max difference {name} {overrides}: {difference:.2e}")
    assert difference <= 1e-5


# --- batching helpers -----------------------------------------------------------------------------


def test_batch_graphs_makes_a_disjoint_union_and_back():
    rng = np.random.default_rng(0)
    graphs = [random_graph(rng, 4, 2, edge_weight=True), random_graph(rng, 3, 2),
              random_graph(rng, 5, 2, edge_weight=True)]
    batch = zoo.batch_graphs(graphs, pairs=[[[0], [3]], [[1], [2]], np.zeros((2, 0), int)])
    assert batch["node_features"].shape == (1, 12, 2)
    np.testing.assert_array_equal(batch["graph_ids"], [[0] * 4 + [1] * 3 + [2] * 5])
    np.testing.assert_array_equal(batch["graph_sizes"], [[4, 3, 5]])
    np.testing.assert_array_equal(batch["pair_index"], [[[0, 5], [3, 6]]])
    # The graph without weights gets weight 1.0 on its edges.
    second = slice(graphs[0]["edge_index"].shape[1],
                   graphs[0]["edge_index"].shape[1] + graphs[1]["edge_index"].shape[1])
    np.testing.assert_array_equal(batch["edge_weight"][0, second], 1.0)
    assert zoo.check_graph_batch(batch, required=tuple(batch)) is not None
    for before, after in zip(graphs, zoo.unbatch_graphs(batch)):
        np.testing.assert_array_equal(before["node_features"], after["node_features"])
        np.testing.assert_array_equal(before["edge_index"], after["edge_index"])
    values = np.arange(12)[None, :, None]
    pieces = zoo.split_node_values(batch, values)
    assert [p[:, 0].tolist() for p in pieces] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]


def test_networkx_graphs_convert_both_ways():
    graph = nx.Graph()
    graph.add_nodes_from([("a", {"x": [1.0, 2.0]}), ("b", {"x": [3.0, 4.0]}),
                          ("c", {"x": [5.0, 6.0]})])
    graph.add_edge("a", "b", w=2.0)
    graph.add_edge("b", "c")
    converted = zoo.from_networkx(graph, feature_key="x", weight_key="w")
    np.testing.assert_array_equal(converted["node_features"], [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(converted["edge_index"], [[0, 1, 1, 2], [1, 0, 2, 1]])
    np.testing.assert_array_equal(converted["edge_weight"], [2, 2, 1, 1])
    assert zoo.from_networkx(nx.DiGraph([(0, 1)]))["edge_index"].shape == (2, 1)
    back = zoo.to_networkx(converted)
    assert sorted(back.edges) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert back.edges[0, 1]["weight"] == 2.0
    batch = zoo.batch_graphs([nx.cycle_graph(4), nx.path_graph(3)])
    np.testing.assert_array_equal(batch["graph_sizes"], [[4, 3]])
    assert batch["node_features"].shape == (1, 7, 1) and batch["edge_index"].shape == (1, 2, 12)


def test_stacked_graph_batches_are_one_disjoint_union():
    model = _toy("gcn_graph_classifier", readout="max")
    x1, _ = _data(model, 3, seed=1)
    # A second batch of the same shapes: new features, edges reversed.
    x2 = {**x1, "node_features": x1["node_features"][:, ::-1] * 2.0,
          "edge_index": x1["edge_index"][:, ::-1]}
    stacked = {key: np.concatenate([x1[key], x2[key]]) for key in x1}
    out = _numpy(model(stacked))
    assert out.shape == (2, 3, 3)
    np.testing.assert_allclose(out[:1], _numpy(model(x1)), atol=1e-6)
    np.testing.assert_allclose(out[1:], _numpy(model(x2)), atol=1e-6)


# --- models: weights, encoder, compilation, files ------------------------------------------------


def test_edge_weight_is_an_input_only_when_asked_for():
    plain = _toy("gcn")
    weighted = _toy("gcn", use_edge_weight=True)
    assert "edge_weight" not in [t.name for t in plain.inputs]
    weighted.set_weights(plain.get_weights())
    x, _ = _data(weighted, 6)
    ones = {**x, "edge_weight": np.ones_like(x["edge_weight"])}
    np.testing.assert_allclose(_numpy(weighted(ones)), _numpy(plain(x)), atol=1e-6)
    assert np.abs(_numpy(weighted(x)) - _numpy(plain(x))).max() > 1e-4


def test_encoder_gives_node_or_graph_embeddings():
    node, graph, link = _toy("gat"), _toy("gin_graph_classifier"), _toy("graph_autoencoder")
    assert zoo.encoder(node).output.shape == (None, 3 * 2)
    assert zoo.encoder(graph).output.shape[-1] == 4
    x, _ = _data(graph, 4)
    assert _numpy(zoo.encoder(graph)(x)).shape == (4, 4)
    assert sorted(t.name for t in zoo.encoder(link).inputs) == ["edge_index", "node_features"]


@pytest.mark.slow
def test_training_compiles_with_static_segment_counts():
    # XLA on TensorFlow, jit on JAX. (torch.compile works too, but takes minutes.)
    jit = BACKEND != "torch"
    model = _toy("gat_graph_classifier", jit_compile=jit, readout="max")
    assert model.jit_compile == jit
    for n, seed in ((4, 0), (6, 1)):  # a second size retraces with new static counts
        x, y = _data(model, n, seed)
        logs = model.fit(x, y, epochs=2, verbose=0).history
        assert np.isfinite(logs["loss"]).all()
        np.testing.assert_allclose(model.predict(x, verbose=0), _numpy(model(x)), atol=1e-5)


def test_trained_weighted_model_round_trips_through_a_keras_file(tmp_path):
    model = _toy("gin_graph_classifier", use_edge_weight=True)
    x, y = _data(model, 6)
    model.fit(_repeat(x, 3), np.repeat(y, 3, 0), batch_size=1, verbose=0)
    path = tmp_path / "gin.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is GraphModel and loaded.zoo_name == "gin_graph_classifier"
    np.testing.assert_allclose(_numpy(loaded(x)), _numpy(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match=r"Received: keys="):
        loaded({key: x[key] for key in ("node_features", "edge_index")})


# --- learning -------------------------------------------------------------------------------------


def _karate():
    graph = nx.karate_club_graph()
    batch = zoo.batch_graphs([graph])
    batch["node_features"] = np.eye(34, dtype="float32")[None]  # featureless: one-hot ids
    factions = np.array([graph.nodes[i]["club"] != "Mr. Hi" for i in range(34)], "int32")
    return batch, factions


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gcn", "gat", "graphsage", "gin"])
def test_karate_club_from_one_labelled_node_per_faction(name):
    batch, factions = _karate()
    labels = np.full((1, 34), -1, "int32")  # -1: unlabelled, left out of the loss
    labels[0, [0, 33]] = factions[[0, 33]]  # the two leaders
    model = zoo.build(name, num_features=34)
    steps = 60
    model.fit(_repeat(batch, steps), np.repeat(labels, steps, 0), batch_size=1, verbose=0)
    predicted = model.predict(batch, verbose=0)[0].argmax(-1)
    others = np.setdiff1d(np.arange(34), [0, 33])
    accuracy = (predicted[others] == factions[others]).mean()
    print(f"\n[{BACKEND}] karate club accuracy {name}: {accuracy:.3f}")
    assert accuracy >= (0.9 if name == "gcn" else 0.6)


def _cycles_and_trees(count, rng):
    graphs, labels = [], []
    for _ in range(count // 2):
        size = int(rng.integers(6, 13))
        graphs.append(nx.random_labeled_tree(size, seed=int(rng.integers(2 ** 31))))
        cycle = nx.cycle_graph(size)
        graphs.append(nx.relabel_nodes(cycle, dict(enumerate(rng.permutation(size)))))
        labels += [0, 1]
    return zoo.batch_graphs(graphs), np.array(labels, "int32")[None]


@pytest.mark.slow
def test_gin_tells_cycles_from_trees_of_the_same_size():
    rng = np.random.default_rng(0)
    train, train_labels = _cycles_and_trees(200, rng)
    test, test_labels = _cycles_and_trees(100, rng)
    model = zoo.build("gin_graph_classifier", num_features=1, hidden_units=(16, 16))
    steps = 60
    model.fit(_repeat(train, steps), np.repeat(train_labels, steps, 0), batch_size=1,
              verbose=0)
    accuracy = (model.predict(test, verbose=0)[0].argmax(-1) == test_labels[0]).mean()
    print(f"\n[{BACKEND}] gin cycles vs trees held-out accuracy: {accuracy:.3f}")
    assert accuracy >= 0.9


@pytest.mark.slow
def test_graph_autoencoder_predicts_held_out_edges():
    rng = np.random.default_rng(0)
    communities, size = 16, 10
    probabilities = np.full((communities, communities), 0.003)
    np.fill_diagonal(probabilities, 0.6)
    graph = nx.stochastic_block_model([size] * communities, probabilities.tolist(), seed=0)
    n = graph.number_of_nodes()
    edges = np.array(sorted(graph.edges()))
    edges = edges[rng.permutation(len(edges))]
    held_out, kept = edges[:len(edges) // 7], edges[len(edges) // 7:]
    adjacency = nx.to_numpy_array(graph) > 0
    non_edges = np.argwhere(np.triu(~adjacency, 1))
    non_edges = non_edges[rng.permutation(len(non_edges))]
    test_negatives, train_negatives = non_edges[:len(held_out)], non_edges[len(held_out):]
    # Messages pass over the kept edges only; the held-out ones are never seen.
    seen = {"node_features": np.eye(n, dtype="float32"),
            "edge_index": np.concatenate([kept.T, kept.T[::-1]], axis=1)}
    steps, batches, targets = 40, [], []
    for _ in range(steps):  # fresh negatives every step
        negatives = train_negatives[rng.choice(len(train_negatives), len(kept), replace=False)]
        batches.append(zoo.batch_graphs([seen], pairs=[np.concatenate([kept, negatives]).T]))
        targets.append(np.r_[np.ones(len(kept)), np.zeros(len(kept))].astype("float32"))
    fields = ("node_features", "edge_index", "pair_index")
    x = {key: np.concatenate([b[key] for b in batches]) for key in fields}
    model = zoo.build("graph_autoencoder", num_features=n)
    model.fit(x, np.stack(targets), batch_size=1, verbose=0)
    test = zoo.batch_graphs([seen], pairs=[np.concatenate([held_out, test_negatives]).T])
    scores = model.predict({key: test[key] for key in fields}, verbose=0)[0]
    truth = np.r_[np.ones(len(held_out)), np.zeros(len(test_negatives))]
    auc = roc_auc_score(truth, scores)
    print(f"\n[{BACKEND}] graph autoencoder held-out ROC-AUC: {auc:.3f} "
          f"({len(held_out)} held-out edges)")
    assert auc >= 0.85


# --- bad input ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph_model():
    model = _toy("gcn_graph_classifier")
    x, y = _data(model, 3)
    return model, x, y


def test_graph_ids_are_required_by_graph_models(graph_model):
    model, x, y = graph_model
    without = {key: x[key] for key in ("node_features", "edge_index")}
    with pytest.raises(ValueError, match=r"lacks 'graph_ids', 'graph_sizes'\. Graph-level "
                                         r".*Received: keys=\['edge_index', 'node_features'\]$"):
        model(without)
    with pytest.raises(ValueError, match=r"lacks 'graph_ids'"):
        model.fit(without, y, verbose=0)


def test_edge_index_out_of_range_is_refused(graph_model):
    model, x, y = graph_model
    n = x["node_features"].shape[1]
    bad = {**x, "edge_index": x["edge_index"].copy()}
    bad["edge_index"][0, 1, 2] = n
    with pytest.raises(ValueError, match=rf"node ids outside \[0, {n}\).*Received: "
                                         rf"edge_index={n}$"):
        model(bad)
    bad["edge_index"][0, 1, 2] = -1
    for call in (lambda: model.fit(bad, y, verbose=0), lambda: model.predict(bad, verbose=0),
                 lambda: model.evaluate(bad, y, verbose=0)):
        with pytest.raises(ValueError, match=r"Received: edge_index=-1$"):
            call()
    # Eager backend tensors are checked by fit/evaluate/predict too.
    tensors = {key: keras.ops.convert_to_tensor(value) for key, value in bad.items()}
    with pytest.raises(ValueError, match=r"Received: edge_index=-1$"):
        model.predict(tensors, verbose=0)


@pytest.mark.parametrize("field,value,message", [
    ("edge_index", lambda x: x["edge_index"][0], r"edge_index\.shape=\(2, \d+\)$"),
    ("edge_index", lambda x: x["edge_index"].astype("float32"),
     r"must be an integer array\. Received: edge_index\.dtype='float32'$"),
    ("edge_index", lambda x: np.concatenate([x["edge_index"]] * 2, 1),
     r"row 0 sources, row 1 targets\. Received: edge_index\.shape=\(1, 4, \d+\)$"),
    ("node_features", lambda x: x["node_features"].astype("int32"),
     r"must be a floating-point array\. Received: node_features\.dtype='int32'$"),
    ("node_features", lambda x: x["node_features"][:, :, :2],
     r"num_features=3 columns\. Received: node_features\.shape=\(1, \d+, 2\)$"),
    ("graph_ids", lambda x: x["graph_ids"][:, :-1],
     r"one entry per node \(\d+\)\. Received: graph_ids\.shape=\(1, \d+\)$"),
    ("graph_ids", lambda x: np.full_like(x["graph_ids"], 3),
     r"graph ids outside \[0, 3\) \(num_graphs=3\)\. Received: graph_ids=3$"),
    ("graph_sizes", lambda x: x["graph_sizes"][:, ::-1] + 1,
     r"must count the nodes of each graph .*Received: graph_sizes=\[\["),
    ("graph_sizes", lambda x: np.concatenate([x["graph_sizes"]] * 2),
     r"same leading batch axis as node_features \(1\)\. Received: graph_sizes\.shape=\(2, 3\)$"),
])
def test_bad_fields_are_refused(graph_model, field, value, message):
    model, x, _ = graph_model
    with pytest.raises(ValueError, match=message):
        model({**x, field: value(x)})


def test_other_bad_inputs_are_refused(graph_model):
    model, x, _ = graph_model
    with pytest.raises(ValueError, match=r"Received: inputs=ndarray$"):
        model(x["node_features"])
    weighted = _toy("gcn", use_edge_weight=True)
    wx, _ = _data(weighted, 5)
    with pytest.raises(ValueError, match=r"one entry per edge \(\d+\)\. Received: "
                                         r"edge_weight\.shape=\(1, 3\)$"):
        weighted({**wx, "edge_weight": wx["edge_weight"][:, :3]})
    with pytest.raises(ValueError, match=r"must be finite\. Received: edge_weight=nan$"):
        weighted({**wx, "edge_weight": np.full_like(wx["edge_weight"], np.nan)})
    link = _toy("graph_autoencoder")
    lx, _ = _data(link, 5)
    with pytest.raises(ValueError, match=r"Received: pair_index=9$"):
        link({**lx, "pair_index": np.full_like(lx["pair_index"], 9)})


def test_helpers_refuse_bad_graphs():
    good = {"node_features": np.ones((3, 2)), "edge_index": np.array([[0, 1], [1, 2]])}
    with pytest.raises(ValueError, match=r"at least one graph\. Received: graphs=\[\]$"):
        zoo.batch_graphs([])
    with pytest.raises(ValueError, match=r"must be a list of graphs\. Received: graphs="):
        zoo.batch_graphs(good)
    with pytest.raises(ValueError, match=r"Received: graphs\[1\]=str$"):
        zoo.batch_graphs([good, "graph"])
    with pytest.raises(ValueError, match=r"Received: graphs\[0\]\.edge_index=3$"):
        zoo.batch_graphs([{**good, "edge_index": np.array([[0, 3], [1, 2]])}])
    with pytest.raises(ValueError, match=r"Received: graphs\[0\]\.edge_index\.dtype='float64'$"):
        zoo.batch_graphs([{**good, "edge_index": np.array([[0.0, 1.5], [1.0, 2.0]])}])
    with pytest.raises(ValueError, match=r"Received: graphs\[0\]\.edge_index\.shape=\(3, 2\)$"):
        zoo.batch_graphs([{**good, "edge_index": np.zeros((3, 2), int)}])
    with pytest.raises(ValueError, match=r"Received: graphs\[0\]\.node_features\.shape=\(3,\)$"):
        zoo.batch_graphs([{**good, "node_features": np.ones(3)}])
    with pytest.raises(ValueError, match=r"Received: num_features=\[1, 2\]$"):
        zoo.batch_graphs([good, nx.path_graph(2)])
    with pytest.raises(ValueError, match=r"Received: graphs\[0\]\.edge_weight\.shape=\(1,\)$"):
        zoo.batch_graphs([{**good, "edge_weight": np.ones(1)}])
    with pytest.raises(ValueError, match=r"Received: pairs\[0\]=5$"):
        zoo.batch_graphs([good], pairs=[[[0], [5]]])
    with pytest.raises(ValueError, match=r"Received: len\(pairs\)=2 for 1 graphs$"):
        zoo.batch_graphs([good], pairs=[[[0], [1]], [[0], [1]]])
    with pytest.raises(ValueError, match=r"Received: feature_key='x'$"):
        zoo.from_networkx(nx.path_graph(3), feature_key="x")
    with pytest.raises(ValueError, match=r"must be a networkx graph\. Received: graph=3$"):
        zoo.from_networkx(3)


@pytest.mark.parametrize("name,overrides,message", [
    ("gcn_graph_classifier", {"readout": "median"}, r"Received: readout='median'$"),
    ("gcn", {"hidden_units": ()}, r"at least one graph layer\. Received: hidden_units=\(\)$"),
    ("gcn", {"num_classes": 1}, r"at least 2\. Received: num_classes=1$"),
    ("graphsage", {"use_edge_weight": "yes"}, r"Received: use_edge_weight='yes'$"),
    ("gin", {"learn_epsilon": 1}, r"Received: learn_epsilon=1$"),
    ("gin_graph_classifier", {"batch_norm": None}, r"Received: batch_norm=None$"),
    ("gat", {"attention_dropout": 1.0}, r"Received: attention_dropout=1\.0$"),
    ("graph_autoencoder", {"dropout": -0.1}, r"Received: dropout=-0\.1$"),
])
def test_bad_parameters_are_refused(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        zoo.build(name, **overrides)


def test_layers_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: mode='median'$"):
        GraphReadout("median")
    with pytest.raises(ValueError, match=r"Received: units=0$"):
        GCNConv(0)
    with pytest.raises(ValueError, match=r"Received: num_heads=0$"):
        GraphAttention(4, num_heads=0)
    with pytest.raises(ValueError, match=r"does not use edge weights"):
        GraphAttention(4)([X, EDGES, WEIGHTS])
