"""Neighbour sampling (``zoo.models.graph.sampling``): determinism, fan-outs, seeds
first, real edges only, padding that changes nothing, full neighbourhoods equal to
full-batch, bad input, and training on sampled batches."""

import keras
import numpy as np
import pytest

import zoo
from zoo.constants import UNLABELLED
from zoo.models.graph.common import random_graph
from zoo.models.graph.sampling import (IncomingCSR, NeighborSampler, check_fanouts,
                                       padded_sizes, predict_sampled, sample_subgraph)

ENCODERS = ["gcn", "gat", "graphsage", "gin"]


def star_graph(rng, num_nodes=60, num_features=3):
    """A random graph with a hub (node 0 receives an edge from every node)."""
    graph = random_graph(rng, num_nodes, num_features)
    extra = np.stack([np.arange(2, num_nodes), np.zeros(num_nodes - 2, int)]).astype("int32")
    graph["edge_index"] = np.concatenate([graph["edge_index"], extra], axis=1)
    return graph


@pytest.fixture
def graph():
    return star_graph(np.random.default_rng(0))


def edge_set(edge_index):
    return set(map(tuple, np.asarray(edge_index).T.tolist()))


def global_edges(sample):
    nodes = sample["nodes"]
    return [(int(nodes[s]), int(nodes[t])) for s, t in sample["edge_index"].T]


# --- the sampler ----------------------------------------------------------------------------


def test_csr_groups_in_edges_by_target(graph):
    csr = IncomingCSR(graph["edge_index"], 60)
    edges = graph["edge_index"]
    for node in (0, 5, 59):
        got = sorted(csr.sources[csr.indptr[node]:csr.indptr[node + 1]].tolist())
        assert got == sorted(edges[0][edges[1] == node].tolist())
    assert np.array_equal(edges[0][csr.edge_ids], csr.sources)
    assert csr.degrees().sum() == edges.shape[1]


def test_samples_are_seeded(graph):
    csr = IncomingCSR(graph["edge_index"], 60)
    a = sample_subgraph(csr, [0, 3, 7], (3, 2), np.random.default_rng(5))
    b = sample_subgraph(csr, [0, 3, 7], (3, 2), np.random.default_rng(5))
    c = sample_subgraph(csr, [0, 3, 7], (3, 2), np.random.default_rng(6))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not (np.array_equal(a["nodes"], c["nodes"])
                and np.array_equal(a["edge_index"], c["edge_index"]))
    first = NeighborSampler(graph, (3, 2), labels=np.zeros(60, int), batch_size=8, seed=1)
    second = NeighborSampler(graph, (3, 2), labels=np.zeros(60, int), batch_size=8, seed=1)
    for index in (0, 3):
        assert all(np.array_equal(u, v) for u, v in zip(
            first[index][0].values(), second[index][0].values()))
    before = first.order().copy()
    first.on_epoch_end()  # a new epoch reshuffles the seeds
    assert not np.array_equal(before, first.order())
    assert sorted(before.tolist()) == sorted(first.order().tolist())


def test_fanouts_are_respected_and_edges_are_real(graph):
    csr = IncomingCSR(graph["edge_index"], 60)
    seeds = np.array([0, 1, 2, 10])
    fanouts = (2, 3)
    sample = sample_subgraph(csr, seeds, fanouts, np.random.default_rng(0))
    nodes = sample["nodes"]
    assert nodes[:len(seeds)].tolist() == seeds.tolist()
    assert len(np.unique(nodes)) == len(nodes)
    assert set(global_edges(sample)) <= edge_set(graph["edge_index"])
    assert len(set(global_edges(sample))) == sample["edge_index"].shape[1]  # no repeats
    assert np.array_equal(graph["edge_index"][:, sample["edge_ids"]],
                          nodes[sample["edge_index"]])
    in_counts = np.bincount(sample["edge_index"][1], minlength=len(nodes))
    degrees = csr.degrees(nodes)
    hop_one = len(seeds) + len(np.unique(nodes[len(seeds):]))
    # Seeds: at most fanouts[0] (the hub has many more in-edges); all when fewer.
    assert (in_counts[:len(seeds)] == np.minimum(degrees[:len(seeds)], fanouts[0])).all()
    assert in_counts[0] == 2 and degrees[0] > 2
    assert (in_counts[len(seeds):hop_one] <= fanouts[1]).all()
    # Hop counts per node never pass the largest fan-out; the last hop's nodes are
    # not expanded.
    assert in_counts.max() <= max(fanouts)


def test_sampled_batches_are_padded_with_seeds_first_and_labelled(graph):
    labels = np.arange(60) % 3
    labels[::7] = UNLABELLED
    sampler = NeighborSampler(graph, (3, 2), labels=labels, batch_size=10, parts=2, seed=0)
    seeds = np.flatnonzero(labels >= 0)
    assert len(sampler) == -(-len(seeds) // 10)
    nodes, edges = padded_sizes(10, 2, (3, 2), 60, graph["edge_index"].shape[1])
    assert (sampler.max_nodes, sampler.max_edges) == (nodes, edges) == (51, 45)
    seen = []
    for index in range(len(sampler)):
        x, y = sampler[index]
        assert x["node_features"].shape == (2, 51, 3) and x["edge_index"].shape == (2, 2, 45)
        assert y.shape == (2, 51) and x["edge_index"].dtype == np.int32
        for p, part in enumerate(sampler.batch_seeds(index)):
            assert y[p, :len(part)].tolist() == labels[part].tolist()
            assert (y[p, len(part):] == UNLABELLED).all()
            assert np.allclose(x["node_features"][p, :len(part)], graph["node_features"][part])
            seen += part.tolist()
    assert sorted(seen) == seeds.tolist()  # every seed once, the last batch included
    # The last batch is partial: padding beyond its seeds.
    last = sum(len(p) for p in sampler.batch_seeds(len(sampler) - 1))
    assert last == (len(seeds) % 10 or 10) < 10


def test_padding_edges_only_touch_the_padding_node(graph):
    sampler = NeighborSampler(graph, (2, 2), labels=np.zeros(60, int), batch_size=4, seed=0)
    x, _ = sampler[0]
    real = len(sampler.sample(0)[0]["nodes"])
    edges = x["edge_index"][0]
    padding = edges[:, edges.max(axis=0) >= real]
    assert (padding == sampler.max_nodes - 1).all()
    assert (x["node_features"][0, real:] == 0).all()


# --- models on sampled batches --------------------------------------------------------------


def _unpadded(sampler, index, part=0):
    sample = sampler.sample(index)[part]
    return {"node_features": sampler.features[sample["nodes"]][None],
            "edge_index": sample["edge_index"][None]}


@pytest.mark.parametrize("name", ENCODERS)
def test_padding_changes_nothing_for_real_nodes(name, graph):
    model = zoo.build(name, size="toy", output_layer="graph")
    sampler = NeighborSampler(graph, (3, 2), labels=np.zeros(60, int), batch_size=6, parts=2,
                              seed=3)
    x, _ = sampler[1]
    padded = np.asarray(model.predict_on_batch(x))
    for part in range(2):
        alone = np.asarray(model.predict_on_batch(_unpadded(sampler, 1, part)))[0]
        np.testing.assert_allclose(padded[part, :len(alone)], alone, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, hops", [("gat", 2), ("graphsage", 2), ("gin", 2), ("gcn", 3)])
def test_full_neighbourhoods_give_full_batch_predictions(name, hops, graph):
    """A 2-layer model. Attention, mean and sum aggregations read only the in-edges of
    each target, so two full hops are exact; GCN's symmetric normalisation also reads
    the in-degree of each *source*, which the last hop's nodes only have in full with
    one more hop (with as many hops as layers their degree counts only the self-loop,
    as with PyG's NeighborLoader)."""
    model = zoo.build(name, size="toy", hidden_units=(4,), output_layer="graph")
    full = np.asarray(model.predict_on_batch(zoo.batch_graphs([graph])))[0]
    fanout = int(IncomingCSR(graph["edge_index"], 60).degrees().max())
    nodes = np.array([0, 17, 5, 42, 33])
    sampled = predict_sampled(model, graph, nodes, (fanout,) * hops, batch_size=2)
    np.testing.assert_allclose(sampled, full[nodes], rtol=1e-4, atol=1e-5)


def test_training_on_sampled_batches_runs(graph):
    model = zoo.build("gcn", size="toy")
    labels = np.random.default_rng(0).integers(0, 3, 60)
    sampler = NeighborSampler(graph, (4, 3), labels=labels, batch_size=16, parts=2, seed=0)
    history = model.fit(sampler, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()
    scores = model.evaluate(NeighborSampler(graph, (4, 3), labels=labels, batch_size=16,
                                            shuffle=False), verbose=0, return_dict=True)
    assert 0.0 <= scores["accuracy"] <= 1.0


def test_edge_weights_follow_the_sampled_edges(graph):
    graph = {**graph, "edge_weight": np.arange(graph["edge_index"].shape[1], dtype="float32")}
    sampler = NeighborSampler(graph, (3,), batch_size=5, seed=0)
    x = sampler[0]
    sample = sampler.sample(0)[0]
    count = sample["edge_index"].shape[1]
    assert x["edge_weight"][0, :count].tolist() == sample["edge_ids"].astype(float).tolist()
    model = zoo.build("gcn", size="toy", use_edge_weight=True)
    assert np.isfinite(np.asarray(model.predict_on_batch(x))).all()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("fanouts", [(), (15, 0), (15, -1), (2.5,), ("15",), (True,), None])
def test_bad_fanouts_are_named(fanouts, graph):
    with pytest.raises(ValueError, match=r"fan-outs must be positive integers, one per graph "
                                         r"layer\. Received: fanouts="):
        NeighborSampler(graph, fanouts)
    with pytest.raises(ValueError, match=r"Received: fanouts="):
        check_fanouts(fanouts)


@pytest.mark.parametrize("kwargs, received", [
    ({"batch_size": 0}, "batch_size=0"), ({"batch_size": -3}, "batch_size=-3"),
    ({"batch_size": 2.0}, "batch_size=2.0"), ({"parts": 0}, "parts=0"),
    ({"batch_size": 4, "parts": 5}, "parts=5")])
def test_bad_sizes_are_named(kwargs, received, graph):
    with pytest.raises(ValueError, match=rf"Received: {received}$"):
        NeighborSampler(graph, (3,), **kwargs)


def test_other_bad_input(graph):
    with pytest.raises(ValueError, match="Received: seeds max=60"):
        NeighborSampler(graph, (3,), seeds=[60])
    with pytest.raises(ValueError, match="Received: labels.shape"):
        NeighborSampler(graph, (3,), labels=np.zeros(5))
    with pytest.raises(ValueError, match="distinct"):
        sample_subgraph(IncomingCSR(graph["edge_index"], 60), [1, 1], (2,),
                        np.random.default_rng(0))
    with pytest.raises(ValueError, match="raise max_nodes"):
        NeighborSampler(graph, (5, 5), batch_size=8, max_nodes=9)[0]
    assert keras.backend.backend() in ("jax", "tensorflow", "torch")
