"""Data shared by the autoencoder tests."""

import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    """Digits scaled to [0, 1], split 1400 / 397 with a fixed permutation."""
    x = (load_digits().data / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    return x[order[:1400]], x[order[1400:]]

