"""The GCN-vs-PyG benchmark at toy sizes: the zoo half and the table always; the PyG
half reports why it cannot run when torch_geometric is missing, and times a step
when it is installed."""

import builtins
import importlib.util
import json

import keras
import numpy as np

from benchmarks import gcn_vs_pyg as bench

# --threads 0: leave the test process' thread settings alone.
TOY = ["--sizes", "30,50", "--features", "6", "--hidden", "8", "--classes", "3",
       "--warmup", "0", "--repeats", "2", "--threads", "0"]
HAS_PYG = importlib.util.find_spec("torch_geometric") is not None


def _graph():
    return bench.random_graph(40, 6, 3, degree=4, seed=0)


def test_the_random_graph_is_symmetric_seeded_and_loop_free():
    features, edge_index, labels = _graph()
    assert features.shape == (40, 6) and features.dtype == np.float32
    assert edge_index.shape == (2, 160) and edge_index.dtype == np.int32
    assert labels.shape == (40,) and set(np.unique(labels)) <= {0, 1, 2}
    assert not np.any(edge_index[0] == edge_index[1])
    edges = set(map(tuple, edge_index.T.tolist()))
    assert edges == {(v, u) for u, v in edges}  # both directions
    again = bench.random_graph(40, 6, 3, degree=4, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((features, edge_index, labels), again))


def test_the_zoo_step_trains_the_gcn_node_classifier():
    features, edge_index, labels = _graph()
    step = bench.zoo_step(features, edge_index, labels, hidden=8, num_classes=3)
    logs = step()
    assert np.isfinite(np.asarray(logs if not isinstance(logs, dict) else logs["loss"])).all()


def test_the_pyg_step_says_why_when_torch_geometric_is_missing(monkeypatch):
    real_import = builtins.__import__

    def no_pyg(name, *args, **kwargs):
        if name == "torch_geometric" or name.startswith("torch_geometric."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyg)
    step, reason = bench.pyg_step(*_graph(), hidden=8, num_classes=3)
    assert step is None and reason == bench.NO_PYG


def test_the_pyg_step_times_a_training_step_when_installed():
    step, reason = bench.pyg_step(*_graph(), hidden=8, num_classes=3)
    if not HAS_PYG:  # the optional extra is absent: the reason, never a crash
        assert step is None and reason == bench.NO_PYG
        return
    assert reason is None
    first = step()
    assert np.isfinite(first)
    timed = bench.time_steps({"pyg": step}, warmup=1, repeats=2)
    assert timed["pyg"][0] > 0 and timed["pyg"][1] > 0


def test_toy_run_writes_the_json_and_the_table(tmp_path):
    out = tmp_path / "gcn_vs_pyg" / f"{keras.backend.backend()}.json"
    bench.main(TOY + ["--out", str(out)])
    result = json.loads(out.read_text())
    assert result["backend"] == keras.backend.backend()
    assert [row["nodes"] for row in result["rows"]] == [30, 50]
    for row in result["rows"]:
        assert row["edges"] == 2 * (7 * row["nodes"] // 2)  # default average degree 7
        assert row["zoo_ms"] > 0 and row["zoo_first_ms"] > 0 and row["peak_rss_mb"] > 0
        if HAS_PYG:
            assert row["pyg_ms"] > 0
            assert abs(row["ratio"] - row["pyg_ms"] / row["zoo_ms"]) < 0.01 * row["ratio"] + 1e-3
        else:
            assert "ratio" not in row
    assert (result["pyg_skipped"] is None) == HAS_PYG

    # A second backend's JSON without PyG: the table shows both, "-" where PyG is absent.
    other = dict(result, backend="zz_other", pyg=None, pyg_skipped=bench.NO_PYG,
                 rows=[{"nodes": 30, "edges": 210, "zoo_ms": 1.5, "zoo_first_ms": 9.0,
                        "peak_rss_mb": 10.0}])
    (out.parent / "zz_other.json").write_text(json.dumps(other))
    table = bench.write_table(out.parent, tmp_path / "gcn_vs_pyg.md")
    text = table.read_text()
    assert text.index(f"| {keras.backend.backend()} | 30 |") < text.index("| zz_other | 30 |")
    assert "| zz_other | 30 | 210 | 1.5 | - | - | 9 | 10 |" in text
    assert "PyG not timed" in text
    assert bench.write_table(tmp_path / "empty", tmp_path / "none.md") is None


def test_sizes_parse_from_a_comma_separated_list():
    args = bench.build_parser().parse_args(["--sizes", "10000,50000"])
    assert args.sizes == (10000, 50000)
