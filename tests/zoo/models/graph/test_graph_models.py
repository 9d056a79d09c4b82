"""Graph models: the registry entries (one builder with a readout per layer), the
builder harness, permutation equivariance, stacked batches, edge weights, the
encoder, compilation, files (including release 0.1's), learning and bad input.

The learning tests print their numbers (run with ``-s`` to see them).
"""

import pathlib

import keras
import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import zoo
from tests.harness import run_builder_test, to_numpy
from zoo.models.graph import GraphModel
from zoo.models.graph.layers import GATConv, GraphAttention, GraphSAGEConv, SAGEConv

GRAPH_MODELS = zoo.list_models(family="graph")
ENCODERS = ["gcn", "gat", "graphsage", "gin"]
BACKEND = keras.backend.backend()
LEGACY = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "legacy_v0_1"


# --- registry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENCODERS)
def test_node_and_graph_classifiers_are_one_builder_with_a_readout(name):
    node, graph = zoo.get_spec(name), zoo.get_spec(f"{name}_graph_classifier")
    assert node.defaults["readout"] is None and graph.defaults["readout"] in ("mean", "sum")
    assert {k: v for k, v in graph.defaults.items() if k not in ("readout", "batch_norm")} == {
        k: v for k, v in node.defaults.items() if k not in ("readout", "batch_norm")}
    assert node.capabilities.node_level and not graph.capabilities.node_level
    assert node.capabilities.input_kinds == graph.capabilities.input_kinds == ("graph",)
    assert node.size("small") == {"hidden_units": (16, 16), "learning_rate": 1e-2}
    assert graph.size("small") == {"hidden_units": (32, 32), "learning_rate": 1e-2}
    # The node builder with a readout is the graph classifier.
    model = zoo.build(name, size="toy", readout="max")
    assert "graph_probabilities" in model.output_names and "max_readout" in [
        layer.name for layer in model.layers]


def test_existing_parameters_keep_their_defaults():
    assert zoo.get_spec("gin").defaults["batch_norm"] is True  # 0.2: 10 of 10 seeds train
    assert zoo.get_spec("gin_graph_classifier").defaults["batch_norm"] is True
    assert zoo.get_spec("gin_graph_classifier").defaults["readout"] == "sum"
    assert {"num_heads": 4, "attention_dropout": 0.0}.items() <= zoo.get_spec(
        "gat_graph_classifier").defaults.items()
    assert zoo.get_spec("gcn").size("bench") == {
        "num_features": 32, "hidden_units": (32, 32), "num_classes": 4, "dropout": 0.0}
    assert zoo.get_spec("graph_autoencoder").size("small") == {
        "hidden_units": (32, 16), "learning_rate": 1e-2}


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_builder_harness(name, tmp_path):
    result = run_builder_test(name, n=5, tmp_path=tmp_path)
    assert isinstance(result.loaded, GraphModel)


@pytest.mark.parametrize("name", ["gcn", "gat", "gatv2", "graphsage", "gin"])
def test_a_graph_output_layer_is_the_papers_last_layer(name, tmp_path):
    result = run_builder_test(name, overrides={"output_layer": "graph"}, n=5,
                              tmp_path=tmp_path)
    model = result.loaded
    output = model.get_layer(f"{name}_output")
    assert "classifier" in [layer.name for layer in model.layers]
    assert not any(isinstance(layer, keras.layers.Dense) and layer.name == "classifier"
                   for layer in model.layers)
    if hasattr(output, "num_heads"):
        assert output.num_heads == 1  # attention ends in one head over the classes
    assert zoo.get_spec(name).defaults["output_layer"] == "dense"


# --- files saved by release 0.1 ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gcn", "gat", "graphsage", "gin", "gin_graph_classifier",
                                  "graph_autoencoder"])
def test_release_0_1_graph_files_load_with_the_same_outputs(name):
    model = zoo.load(LEGACY / f"{name}.keras")
    with np.load(LEGACY / f"{name}.npz") as stored:
        x = {key[3:]: stored[key] for key in stored if key.startswith("x__")}
        expected = stored["y"]
    np.testing.assert_allclose(to_numpy(model(x)), expected, atol=1e-5)
    # The old layer names load as the new layers.
    old = {"gat": (GraphAttention, GATConv), "graphsage": (GraphSAGEConv, SAGEConv)}
    if name in old:
        alias, new = old[name]
        convs = [layer for layer in model.layers if isinstance(layer, new)]
        assert len(convs) == 2 and all(type(layer) is alias for layer in convs)


# --- permutation equivariance ---------------------------------------------------------------------

EQUIVARIANCE_CASES = [(name, {}) for name in GRAPH_MODELS] + [
    ("gcn", {"use_edge_weight": True}),
    ("graph_autoencoder", {"use_edge_weight": True}),
    ("gin_graph_classifier", {"readout": "max", "use_edge_weight": True}),
    ("graphsage_graph_classifier", {"readout": "sum"}),
]


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
def test_relabelling_nodes_permutes_node_outputs_only(toy, example, name, overrides):
    model = toy(name, **overrides)
    x, _ = example(model, 7, seed=3)
    rng = np.random.default_rng(1)
    perm = rng.permutation(x["node_features"].shape[1])
    relabelled = _permuted(x, perm, rng)
    encoder = zoo.encoder(model)
    enc_inputs = lambda batch: {t.name: batch[t.name] for t in encoder.inputs}  # noqa: E731
    out, out_perm = to_numpy(model(x)), to_numpy(model(relabelled))
    code, code_perm = to_numpy(encoder(enc_inputs(x))), to_numpy(encoder(enc_inputs(relabelled)))
    task = zoo.spec_of(model).task
    if task == "node_classification":
        out = out[:, perm]
    if task != "graph_classification":
        code = code[perm]
    difference = max(np.abs(out - out_perm).max(), np.abs(code - code_perm).max())
    print(f"\n[{BACKEND}] permutation max difference {name} {overrides}: {difference:.2e}")
    assert difference <= 1e-5


# --- batches, weights, encoder, compilation, files -----------------------------------------------


def test_stacked_graph_batches_are_one_disjoint_union(toy, example):
    model = toy("gcn_graph_classifier", readout="max")
    x1, _ = example(model, 3, seed=1)
    # A second batch of the same shapes: new features, edges reversed.
    x2 = {**x1, "node_features": x1["node_features"][:, ::-1] * 2.0,
          "edge_index": x1["edge_index"][:, ::-1]}
    stacked = {key: np.concatenate([x1[key], x2[key]]) for key in x1}
    out = to_numpy(model(stacked))
    assert out.shape == (2, 3, 3)
    np.testing.assert_allclose(out[:1], to_numpy(model(x1)), atol=1e-6)
    np.testing.assert_allclose(out[1:], to_numpy(model(x2)), atol=1e-6)


def test_edge_weight_is_an_input_only_when_asked_for(toy, example):
    plain = toy("gcn")
    weighted = toy("gcn", use_edge_weight=True)
    assert "edge_weight" not in [t.name for t in plain.inputs]
    weighted.set_weights(plain.get_weights())
    x, _ = example(weighted, 6)
    ones = {**x, "edge_weight": np.ones_like(x["edge_weight"])}
    np.testing.assert_allclose(to_numpy(weighted(ones)), to_numpy(plain(x)), atol=1e-6)
    assert np.abs(to_numpy(weighted(x)) - to_numpy(plain(x))).max() > 1e-4


def test_encoder_gives_node_or_graph_embeddings(toy, example):
    node, graph, link = toy("gat"), toy("gin_graph_classifier"), toy("graph_autoencoder")
    assert zoo.encoder(node).output.shape == (None, 3 * 2)
    assert zoo.encoder(graph).output.shape[-1] == 4
    x, _ = example(graph, 4)
    assert to_numpy(zoo.encoder(graph)(x)).shape == (4, 4)
    assert sorted(t.name for t in zoo.encoder(link).inputs) == ["edge_index", "node_features"]


@pytest.mark.slow
def test_training_compiles_with_static_segment_counts(toy, example):
    # XLA on TensorFlow, jit on JAX. (torch.compile works too, but takes minutes.)
    jit = BACKEND != "torch"
    model = toy("gat_graph_classifier", jit_compile=jit, readout="max")
    assert model.jit_compile == jit
    for n, seed in ((4, 0), (6, 1)):  # a second size retraces with new static counts
        x, y = example(model, n, seed)
        logs = model.fit(x, y, epochs=2, verbose=0).history
        assert np.isfinite(logs["loss"]).all()
        np.testing.assert_allclose(model.predict(x, verbose=0), to_numpy(model(x)), atol=1e-5)


def test_trained_weighted_model_round_trips_through_a_keras_file(tmp_path, toy, example,
                                                                 repeat):
    model = toy("gin_graph_classifier", use_edge_weight=True)
    x, y = example(model, 6)
    model.fit(repeat(x, 3), np.repeat(y, 3, 0), batch_size=1, verbose=0)
    path = tmp_path / "gin.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is GraphModel and loaded.zoo_name == "gin_graph_classifier"
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)
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
@pytest.mark.parametrize("name", ENCODERS)
def test_karate_club_from_one_labelled_node_per_faction(name, repeat):
    batch, factions = _karate()
    labels = np.full((1, 34), -1, "int32")  # -1: unlabelled, left out of the loss
    labels[0, [0, 33]] = factions[[0, 33]]  # the two leaders
    model = zoo.build(name, num_features=34)
    steps = 60
    model.fit(repeat(batch, steps), np.repeat(labels, steps, 0), batch_size=1, verbose=0)
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
def test_gin_tells_cycles_from_trees_of_the_same_size(repeat):
    rng = np.random.default_rng(0)
    train, train_labels = _cycles_and_trees(200, rng)
    test, test_labels = _cycles_and_trees(100, rng)
    model = zoo.build("gin_graph_classifier", num_features=1, hidden_units=(16, 16))
    steps = 60
    model.fit(repeat(train, steps), np.repeat(train_labels, steps, 0), batch_size=1,
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


@pytest.fixture
def graph_model(toy, example):
    model = toy("gcn_graph_classifier")
    x, y = example(model, 3)
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


def test_other_bad_inputs_are_refused(graph_model, toy, example):
    model, x, _ = graph_model
    with pytest.raises(ValueError, match=r"Received: inputs=ndarray$"):
        model(x["node_features"])
    weighted = toy("gcn", use_edge_weight=True)
    wx, _ = example(weighted, 5)
    with pytest.raises(ValueError, match=r"one entry per edge \(\d+\)\. Received: "
                                         r"edge_weight\.shape=\(1, 3\)$"):
        weighted({**wx, "edge_weight": wx["edge_weight"][:, :3]})
    with pytest.raises(ValueError, match=r"must be finite\. Received: edge_weight=nan$"):
        weighted({**wx, "edge_weight": np.full_like(wx["edge_weight"], np.nan)})
    link = toy("graph_autoencoder")
    lx, _ = example(link, 5)
    with pytest.raises(ValueError, match=r"Received: pair_index=9$"):
        link({**lx, "pair_index": np.full_like(lx["pair_index"], 9)})


@pytest.mark.parametrize("name,overrides,message", [
    ("gcn_graph_classifier", {"readout": "median"}, r"Received: readout='median'$"),
    ("gcn", {"hidden_units": ()}, r"at least one graph layer\. Received: hidden_units=\(\)$"),
    ("gcn", {"num_classes": 1}, r"at least 2\. Received: num_classes=1$"),
    ("graphsage", {"use_edge_weight": "yes"}, r"Received: use_edge_weight='yes'$"),
    ("gin", {"learn_epsilon": 1}, r"Received: learn_epsilon=1$"),
    ("gin_graph_classifier", {"batch_norm": None}, r"Received: batch_norm=None$"),
    ("gat", {"attention_dropout": 1.0}, r"Received: attention_dropout=1\.0$"),
    ("gat", {"num_heads": 0}, r"Received: num_heads=0$"),
    ("gcn", {"output_layer": "conv"}, r"Received: output_layer='conv'$"),
    ("gat_graph_classifier", {"output_layer": "graph"},
     r"Received: output_layer='graph', readout='mean'$"),
    ("graph_autoencoder", {"dropout": -0.1}, r"Received: dropout=-0\.1$"),
])
def test_bad_parameters_are_refused(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        zoo.build(name, **overrides)
