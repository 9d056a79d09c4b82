"""Graph batches: batching and unbatching, networkx conversion, bad graphs, lazy networkx."""

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

import zoo
from zoo.models.graph.common import random_graph


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


def test_import_zoo_does_not_import_networkx():
    code = "import sys, zoo; print('networkx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


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
