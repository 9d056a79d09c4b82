"""Shared data of the graph tests: a small directed graph and toy models."""

import numpy as np
import pytest

import zoo

# 6 nodes; node 5 has no incoming edge, node 0 has three.
SOURCES = np.array([1, 2, 3, 0, 0, 2, 5, 4], "int32")
TARGETS = np.array([0, 0, 0, 1, 2, 3, 4, 3], "int32")


@pytest.fixture
def graph():
    """``(x [6, 3], edge_index [2, 8], edge_weight [8])`` of the small test graph."""
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    weights = np.array([0.5, 1.0, 2.0, 1.5, 0.3, 1.0, 0.7, 1.2], "float32")
    return x, np.stack([SOURCES, TARGETS]), weights


@pytest.fixture
def toy():
    """``toy(name, **overrides)``: the registry entry built at its toy size."""
    def build(name, **overrides):
        return zoo.build(name, size="toy", **overrides)
    return build


@pytest.fixture
def example():
    """``example(model, n, seed=0)``: the spec's example data for a built model."""
    def data(model, n, seed=0):
        return zoo.spec_of(model).example_data(model.zoo_config, n, seed)
    return data


@pytest.fixture
def repeat():
    """``repeat(batch, steps)``: ``steps`` copies of a graph batch stacked on the
    leading axis, so one ``fit(..., batch_size=1)`` makes ``steps`` full-batch updates."""
    def stack(batch, steps):
        return {key: np.repeat(value, steps, axis=0) for key, value in batch.items()}
    return stack
