"""GATv2 (Brody, Alon & Yahav, ICLR 2022): the layer against a NumPy reference,
dynamic against static attention, the layer harness and both registry entries."""

import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test, run_layer_test, to_numpy
from zoo.models.graph.layers import GATConv
from zoo.models.graph.layers.gatv2_conv import GATv2Conv


def _leaky_relu(x, slope=0.2):
    return np.where(x > 0, x, slope * x)


def _gatv2_reference(x, edges, kernel, kernel_target, attention, bias, heads, units):
    """``sum_j softmax_j(a . LeakyReLU(W_s x_j + W_t x_i)) W_s x_j`` with self-loops."""
    z = (x @ kernel).reshape(len(x), heads, units)
    z_target = (x @ kernel_target).reshape(len(x), heads, units)
    sources = np.concatenate([edges[0], np.arange(len(x))])
    targets = np.concatenate([edges[1], np.arange(len(x))])
    scores = (_leaky_relu(z[sources] + z_target[targets]) * attention).sum(-1)  # [E, H]
    peak = np.full((len(x), heads), -np.inf)
    np.maximum.at(peak, targets, scores)
    exp = np.exp(scores - peak[targets])
    total = np.zeros((len(x), heads))
    np.add.at(total, targets, exp)
    out = np.zeros_like(z)
    np.add.at(out, targets, (exp / total[targets])[:, :, None] * z[sources])
    return out.reshape(len(x), -1) + bias


def test_gatv2_conv_matches_the_score_formula(graph):
    x, edges, _ = graph
    layer = GATv2Conv(2, num_heads=3, bias_initializer="random_normal")
    out = to_numpy(layer([x, edges]))
    weights = [to_numpy(w) for w in layer.weights]
    np.testing.assert_allclose(out, _gatv2_reference(x, edges, *weights, heads=3, units=2),
                               rtol=1e-4, atol=1e-5)
    # Stable softmax: huge scores stay finite.
    assert np.isfinite(to_numpy(layer([x * 1e4, edges]))).all()


# Two keys (nodes 0, 1) feed two queries (nodes 2, 3). Node 2's output is
# (alpha_0 - alpha_1) * (1, -1): its first entry is positive iff it attends
# more to key 0.
KEYS_AND_QUERIES = np.array([[1.0, -1.0], [-1.0, 1.0], [0.0, -5.0], [-5.0, 0.0]], "float32")
EDGES = np.array([[0, 1, 0, 1], [2, 2, 3, 3]], "int32")


def _preference(layer):
    """+1 where a query attends more to key 0 than to key 1, -1 where less."""
    return np.sign(to_numpy(layer([KEYS_AND_QUERIES, EDGES]))[2:, 0])


def test_gatv2_ranks_neighbours_per_query_where_gat_cannot():
    identity, ones = np.eye(2, dtype="float32"), np.ones((1, 2), "float32")
    dynamic = GATv2Conv(2, add_self_loops=False, use_bias=False)
    dynamic.build([KEYS_AND_QUERIES.shape, EDGES.shape])
    dynamic.set_weights([identity, identity, ones])
    # a . LeakyReLU(z_j + z_i): query 2 prefers key 0 (-0.2 > -1.0), query 3 key 1.
    assert _preference(dynamic).tolist() == [1.0, -1.0]
    # GAT's ranking is the same for every query, whatever its weights.
    rng = np.random.default_rng(0)
    for _ in range(20):
        static = GATConv(2, add_self_loops=False, use_bias=False)
        static.build([KEYS_AND_QUERIES.shape, EDGES.shape])
        static.set_weights([identity, *rng.normal(size=(2, 1, 2)).astype("float32")])
        first, second = _preference(static)
        assert first == second


def test_gatv2_conv_passes_the_layer_harness(graph, tmp_path):
    x, edges, _ = graph
    result = run_layer_test(
        GATv2Conv, {"units": 2, "num_heads": 2, "concat_heads": False, "attention_dropout": 0.1,
                    "negative_slope": 0.1, "seed": 4},
        [x, edges], expected_output_shape=(6, 2),
        bad_init_kwargs=({"units": 0}, {"num_heads": -1}, {"attention_dropout": 1.5},
                         {"add_self_loops": "no"}),
        call_kwargs={"training": True}, tmp_path=tmp_path)
    assert type(result.loaded.get_layer(result.layer.name)) is GATv2Conv


@pytest.mark.parametrize("name", ["gatv2", "gatv2_graph_classifier"])
def test_gatv2_entries_build_fit_and_round_trip(name, tmp_path):
    result = run_builder_test(name, n=5, tmp_path=tmp_path)
    spec = result.spec
    assert spec.family == "graph" and spec.capabilities.input_kinds == ("graph",)
    assert spec.capabilities.node_level == (name == "gatv2")
    assert [layer.name for layer in result.model.layers if isinstance(layer, GATv2Conv)] == [
        "gatv2_0", "gatv2_1"]
    history = result.model.fit(result.x, result.y, epochs=3, verbose=0).history
    assert np.isfinite(history["loss"]).all()


def test_gatv2_entries_keep_gat_parameters():
    gat, gatv2 = zoo.get_spec("gat_graph_classifier"), zoo.get_spec("gatv2_graph_classifier")
    assert gatv2.defaults == gat.defaults
    assert zoo.get_spec("gatv2").size("small") == {"hidden_units": (16, 16),
                                                   "learning_rate": 1e-2}
    with pytest.raises(ValueError, match=r"Received: num_heads=0$"):
        zoo.build("gatv2", num_heads=0)
