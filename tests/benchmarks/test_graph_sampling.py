"""The neighbour-sampling benchmark (``benchmarks/graph_sampling.py``) at toy size."""

import json

from benchmarks import graph_sampling


def test_graph_sampling_benchmark_runs_at_toy_size(tmp_path):
    out = tmp_path / "graph_sampling.json"
    graph_sampling.main(["--nodes", "400", "--edges", "3000", "--features", "5", "--classes",
                         "3", "--batch-size", "8", "--fanouts", "3,2", "--hidden", "8",
                         "--steps", "3", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["nodes"] == 400 and result["edges"] == 3000 and result["fanouts"] == [3, 2]
    assert result["training_nodes"] == 32 and result["steps_per_epoch"] == 4
    assert result["steps_run"] == 3
    assert result["padded_nodes_per_part"] == 8 * (1 + 3 + 6) + 1
    assert result["peak_memory_mb"] > 0 and result["epoch_seconds"] > 0
