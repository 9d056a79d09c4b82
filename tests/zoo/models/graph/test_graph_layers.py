"""Graph layers: the message-passing base, each convolution against a NumPy
reference, readout, decoder and batching layers, and the shared layer harness."""

import keras
import numpy as np
import pytest

from tests.harness import run_layer_test, to_numpy
from zoo.models.graph.layers import (FlattenBatch, GATConv, GCNConv, GINConv, GraphAttention,
                                     GraphReadout, GraphSAGEConv, InnerProductDecoder,
                                     MergeIndex, MessagePassing, SAGEConv, SplitBatch)
from zoo.models.graph.layers.message_passing import segment_reduce, segment_softmax


def _weights(layer):
    return [to_numpy(w) for w in layer.weights]


# --- the message-passing base -------------------------------------------------------------------


@pytest.mark.parametrize("aggregation", ["sum", "mean", "max"])
def test_message_passing_aggregates_incoming_messages(graph, aggregation):
    x, edges, weights = graph

    class Plain(MessagePassing):
        pass

    Plain.aggregation = aggregation
    out = to_numpy(Plain(3)([x, edges, weights]))
    reduce = {"sum": np.sum, "mean": None, "max": np.max}[aggregation]
    for node in range(6):
        incoming = edges[1] == node
        messages = weights[incoming, None] * x[edges[0][incoming]]
        if not incoming.any():
            expected = np.zeros(3)
        elif aggregation == "mean":
            expected = messages.sum(0) / weights[incoming].sum()
        else:
            expected = reduce(messages, 0)
        np.testing.assert_allclose(out[node], expected, rtol=1e-5, atol=1e-6)


def test_hooks_change_the_step():
    class Count(MessagePassing):
        """Counts incoming edges: every message is 1, the update adds the old state."""

        def message(self, states, source, target, edge_weight, training=False):
            return keras.ops.ones((keras.ops.shape(source)[0], 1))

        def update(self, aggregated, states, training=False):
            return aggregated + states

    edges = np.array([[0, 1, 2], [2, 2, 0]], "int32")
    out = to_numpy(Count(1)([np.zeros((3, 1), "float32"), edges]))
    np.testing.assert_array_equal(out[:, 0], [1, 0, 2])


def test_segment_softmax_is_stable_and_sums_to_one_per_segment():
    scores = np.array([[1e4], [1e4 + 1], [-3.0], [2.0]], "float32")
    ids = np.array([0, 0, 1, 1], "int32")
    alpha = to_numpy(segment_softmax(scores, ids, 2))
    assert np.isfinite(alpha).all()
    np.testing.assert_allclose(alpha[:2, 0], [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-5)
    np.testing.assert_allclose(to_numpy(segment_reduce(alpha, ids, 2, "sum")), 1.0, rtol=1e-6)


def test_layers_refuse_bad_inputs(graph):
    x, edges, weights = graph
    with pytest.raises(ValueError, match=r"takes \[node_states, edge_index\].*Received: inputs="):
        GCNConv(2)([x])
    with pytest.raises(ValueError, match=r"does not use edge weights"):
        GATConv(4)([x, edges, weights])


# --- convolutions against NumPy ------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_gcn_conv_is_the_normalised_adjacency_product(graph, weighted):
    x, edges, weights = graph
    layer = GCNConv(4, bias_initializer="random_normal")
    w = weights if weighted else np.ones(edges.shape[1], "float32")
    out = to_numpy(layer([x, edges, weights] if weighted else [x, edges]))
    kernel, bias = _weights(layer)
    adjacency = np.eye(6)
    np.add.at(adjacency, (edges[1], edges[0]), w)
    scale = 1 / np.sqrt(adjacency.sum(1))
    expected = (scale[:, None] * adjacency * scale[None, :]) @ x @ kernel + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def _attention_reference(x, edges, kernel, a_source, a_target, bias, heads, units):
    z = (x @ kernel).reshape(len(x), heads, units)
    sources = np.concatenate([edges[0], np.arange(len(x))])
    targets = np.concatenate([edges[1], np.arange(len(x))])
    scores = (z[sources] * a_source).sum(-1) + (z[targets] * a_target).sum(-1)
    scores = np.where(scores > 0, scores, 0.2 * scores)
    out = np.zeros_like(z)
    for node in range(len(x)):
        incoming = targets == node
        alpha = np.exp(scores[incoming] - scores[incoming].max(0))
        alpha /= alpha.sum(0)
        out[node] = (alpha[:, :, None] * z[sources[incoming]]).sum(0)
    return out.reshape(len(x), -1) + bias


def _gat_against_reference(x, edges, given_edges):
    """A three-head GATConv on ``given_edges`` and the reference on ``edges``, checked equal."""
    layer = GATConv(2, num_heads=3, bias_initializer="random_normal")
    out = to_numpy(layer([x, given_edges]))
    expected = _attention_reference(x, edges, *_weights(layer), heads=3, units=2)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    return layer, out, expected


def test_gat_conv_is_a_per_node_softmax_and_stable(graph):
    x, edges, _ = graph
    layer, out, expected = _gat_against_reference(x, edges, edges)
    # Scores in the thousands overflow a naive exp; the shifted softmax stays finite.
    assert np.isfinite(to_numpy(layer([x * 1e4, edges]))).all()
    averaged = GATConv(2, num_heads=3, concat_heads=False)
    assert to_numpy(averaged([x, edges])).shape == (6, 2)


def test_sage_conv_concatenates_self_with_the_neighbour_mean(graph):
    x, edges, weights = graph
    layer = SAGEConv(4, bias_initializer="random_normal")
    out = to_numpy(layer([x, edges, weights]))
    kernel, bias = _weights(layer)
    mean = np.zeros_like(x)
    for node in range(6):
        incoming = edges[1] == node
        if incoming.any():
            w = weights[incoming]
            mean[node] = (w[:, None] * x[edges[0][incoming]]).sum(0) / w.sum()
    expected = np.concatenate([x, mean], -1) @ kernel + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    normalised = to_numpy(SAGEConv(4, normalize=True)([x, edges]))
    np.testing.assert_allclose(np.linalg.norm(normalised, axis=-1), 1.0, rtol=1e-5)


def test_gin_conv_sums_neighbours_with_one_plus_epsilon_self(graph):
    x, edges, _ = graph
    layer = GINConv(4, epsilon=0.25, bias_initializer="random_normal")
    out = to_numpy(layer([x, edges]))
    k1, b1, k2, b2, eps = _weights(layer)
    assert eps == pytest.approx(0.25)
    total = np.zeros_like(x)
    np.add.at(total, edges[1], x[edges[0]])
    hidden = np.maximum(((1 + eps) * x + total) @ k1 + b1, 0)
    np.testing.assert_allclose(out, hidden @ k2 + b2, rtol=1e-5, atol=1e-5)
    frozen = GINConv(4, learn_epsilon=False)
    frozen([x, edges])
    assert len(frozen.trainable_weights) == 4 and len(frozen.non_trainable_weights) == 1
    # With batch_norm the hidden layer is normalised over the nodes in training.
    normed = GINConv(4, batch_norm=True, activation=None)
    normed([x, edges])
    k1, k2, b2, eps, gamma, beta, mean, var = _weights(normed)
    pre = ((1 + eps) * x + total) @ k1
    hidden = np.maximum((pre - pre.mean(0)) / np.sqrt(pre.var(0) + 1e-3), 0)
    np.testing.assert_allclose(to_numpy(normed([x, edges], training=True)), hidden @ k2 + b2,
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_readout_pools_each_graph_and_zeros_an_empty_one(graph, mode):
    x = graph[0]
    ids = np.array([0, 0, 2, 2, 2, 0], "int32")  # graph 1 has no node
    out = to_numpy(GraphReadout(mode)([x, ids, np.zeros(3, "int32")]))
    reduce = {"mean": np.mean, "sum": np.sum, "max": np.max}[mode]
    np.testing.assert_allclose(out[0], reduce(x[ids == 0], 0), rtol=1e-5)
    np.testing.assert_allclose(out[2], reduce(x[ids == 2], 0), rtol=1e-5)
    np.testing.assert_array_equal(out[1], 0.0)


def test_inner_product_decoder_scores_pairs(graph):
    x = graph[0]
    pairs = np.array([[0, 1, 5], [2, 1, 3]], "int32")
    out = to_numpy(InnerProductDecoder()([x, pairs]))
    expected = 1 / (1 + np.exp(-(x[pairs[0]] * x[pairs[1]]).sum(-1)))
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_batching_layers_merge_and_split_the_batch_axis():
    nodes = np.arange(12, dtype="float32").reshape(2, 3, 2)
    np.testing.assert_array_equal(to_numpy(FlattenBatch()(nodes)), nodes.reshape(6, 2))
    edges = np.array([[[0, 1], [1, 2]], [[2, 0], [0, 0]]], "int32")
    np.testing.assert_array_equal(to_numpy(MergeIndex()([edges, nodes])),
                                  [[0, 1, 5, 3], [1, 2, 3, 3]])
    ids = np.array([[0, 0, 1], [0, 1, 1]], "int32")
    np.testing.assert_array_equal(to_numpy(MergeIndex(pairs=False)([ids, np.zeros((2, 2))])),
                                  [0, 0, 1, 2, 3, 3])
    split = to_numpy(SplitBatch()([nodes.reshape(6, 2), nodes]))
    np.testing.assert_array_equal(split, nodes)


# --- the shared harness: config, gradient, .keras round trip ----------------------------------

LAYER_CASES = [
    (GCNConv, {"units": 3, "activation": "relu"}, True, (6, 3)),
    (SAGEConv, {"units": 3, "normalize": True}, True, (6, 3)),
    (GINConv, {"units": 3, "epsilon": 0.5, "learn_epsilon": True, "mlp_activation": "tanh",
               "batch_norm": True}, True, (6, 3)),
    (GATConv, {"units": 2, "num_heads": 2, "concat_heads": True, "attention_dropout": 0.1,
               "seed": 3}, False, (6, 4)),
    (GATConv, {"units": 2, "num_heads": 3, "concat_heads": False}, False, (6, 2)),
]
BAD_CONV_ARGUMENTS = ({"units": 0}, {"units": 2.5}, {"use_bias": "yes"})


@pytest.mark.parametrize("cls,kwargs,weighted,shape", LAYER_CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(LAYER_CASES)])
def test_convolutions_pass_the_layer_harness(graph, tmp_path, cls, kwargs, weighted, shape):
    x, edges, weights = graph
    bad = BAD_CONV_ARGUMENTS + ({"num_heads": 0}, {"attention_dropout": 1.0},
                                {"concat_heads": 1}) if cls is GATConv else BAD_CONV_ARGUMENTS
    run_layer_test(cls, kwargs, [x, edges, weights] if weighted else [x, edges],
                   expected_output_shape=shape, bad_init_kwargs=bad,
                   call_kwargs={"training": True}, tmp_path=tmp_path)


def test_readout_and_decoder_pass_the_layer_harness(graph, tmp_path):
    x = graph[0]
    ids = np.array([0, 0, 1, 1, 1, 0], "int32")
    run_layer_test(GraphReadout, {"mode": "max"}, [x, ids, np.zeros(2, "int32")],
                   expected_output_shape=(2, 3), bad_init_kwargs=({"mode": "median"},),
                   expect_trainable=False, tmp_path=tmp_path)
    pairs = np.array([[0, 1, 5], [2, 1, 3]], "int32")
    run_layer_test(InnerProductDecoder, {"activation": "sigmoid"}, [x, pairs],
                   expected_output_shape=(3,), expect_trainable=False, tmp_path=tmp_path)


def test_old_names_are_the_new_layers_under_their_old_registration(graph):
    x, edges, _ = graph
    assert issubclass(GraphAttention, GATConv) and issubclass(GraphSAGEConv, SAGEConv)
    for old, new in ((GraphAttention, "zoo>GraphAttention"), (GraphSAGEConv, "zoo>GraphSAGEConv"),
                     (GATConv, "zoo>GATConv"), (SAGEConv, "zoo>SAGEConv")):
        assert keras.saving.get_registered_name(old) == new
        assert keras.saving.get_registered_object(new) is old
    layer, alias = GATConv(2, num_heads=2), GraphAttention(2, num_heads=2)
    layer([x, edges])
    alias([x, edges])
    alias.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(alias([x, edges])), to_numpy(layer([x, edges])))


# --- self-loops already in edge_index (PyG's add_remaining_self_loops) ---------------------------

# The test graph plus explicit self-loops on nodes 0 and 3 (node 3's twice).
LOOPED = np.array([[1, 2, 3, 0, 0, 2, 5, 4, 0, 3, 3],
                   [0, 0, 0, 1, 2, 3, 4, 3, 0, 3, 3]], "int32")
LOOP_WEIGHTS = np.array([0.5, 1.0, 2.0, 1.5, 0.3, 1.0, 0.7, 1.2, 2.5, 0.4, 0.9], "float32")


def _gcn_reference(x, edges, weights, kernel, bias):
    """D^-1/2 (A + I) D^-1/2 X W + b, where A has no self-loops and I holds one per node:
    weight 1, or the node's own self-loop weight (the largest of several)."""
    n = len(x)
    adjacency = np.zeros((n, n))
    loops = np.ones(n)
    seen = np.zeros(n, bool)
    for (s, t), w in zip(edges.T, weights):
        if s == t:
            loops[s] = w if not seen[s] else max(loops[s], w)
            seen[s] = True
        else:
            adjacency[t, s] += w
    adjacency += np.diag(loops)
    scale = 1 / np.sqrt(adjacency.sum(1))
    return (scale[:, None] * adjacency * scale[None, :]) @ x @ kernel + bias


@pytest.mark.parametrize("weighted", [False, True])
def test_gcn_conv_counts_an_existing_self_loop_once(graph, weighted):
    x = graph[0]
    layer = GCNConv(4, bias_initializer="random_normal")
    weights = LOOP_WEIGHTS if weighted else np.ones(LOOPED.shape[1], "float32")
    out = to_numpy(layer([x, LOOPED, LOOP_WEIGHTS] if weighted else [x, LOOPED]))
    expected = _gcn_reference(x, LOOPED, weights, *_weights(layer))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    if not weighted:  # the loops change nothing: the layer adds one per node anyway
        without = to_numpy(layer([x, LOOPED[:, :8]]))
        np.testing.assert_allclose(out, without, rtol=1e-5, atol=1e-6)


def test_gat_conv_replaces_an_existing_self_loop(graph):
    x, edges, _ = graph
    _gat_against_reference(x, edges, LOOPED)


def test_self_loop_handling_compiles_with_static_shapes(graph):
    """No boolean masking or dynamic shapes: the layers run inside a compiled function."""
    x = graph[0]
    gcn, gat = GCNConv(4), GATConv(2, num_heads=2)
    eager = [to_numpy(gcn([x, LOOPED, LOOP_WEIGHTS])), to_numpy(gat([x, LOOPED]))]
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def run(nodes, edges, weights):
            return gcn([nodes, edges, weights]), gat([nodes, edges])

        compiled = jax.jit(run)(x, LOOPED, LOOP_WEIGHTS)
    elif backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(lambda nodes, edges, weights: (
            gcn([nodes, edges, weights]), gat([nodes, edges])), jit_compile=True)(
                x, LOOPED, LOOP_WEIGHTS)
    else:  # torch: the same static-shape ops, run eagerly
        compiled = gcn([x, LOOPED, LOOP_WEIGHTS]), gat([x, LOOPED])
    for got, want in zip(compiled, eager):
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-5, atol=1e-6)
