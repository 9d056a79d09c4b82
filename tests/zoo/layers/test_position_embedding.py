import numpy as np
import pytest

from tests.harness import run_layer_test, to_numpy
from zoo.layers import PositionEmbedding


def test_layer(tmp_path):
    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype("float32")
    run_layer_test(PositionEmbedding, {"max_length": 8}, x, expected_output_shape=(2, 5, 4),
                   bad_init_kwargs=[{"max_length": 0}, {"max_length": 2.5}],
                   tmp_path=tmp_path)


def test_adds_one_embedding_per_position_whatever_the_batch():
    layer = PositionEmbedding(max_length=6)
    x = np.zeros((3, 4, 2), "float32")
    out = to_numpy(layer(x))
    table = to_numpy(layer.embeddings)
    for row in out:
        np.testing.assert_allclose(row, table[:4], atol=1e-6)


def test_shorter_sequences_reuse_the_first_positions():
    layer = PositionEmbedding(max_length=6)
    x = np.ones((1, 6, 2), "float32")
    long, short = to_numpy(layer(x)), to_numpy(layer(x[:, :3]))
    np.testing.assert_allclose(short, long[:, :3], atol=1e-6)


def test_longer_than_max_length_is_refused():
    with pytest.raises(ValueError, match=r"exceed max_length=4\. Received: input_shape"):
        PositionEmbedding(max_length=4)(np.zeros((1, 5, 2), "float32"))
    layer = PositionEmbedding(max_length=4)
    layer(np.zeros((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match=r"exceed max_length=4\. Received: input_shape"):
        layer(np.zeros((1, 6, 2), "float32"))


@pytest.mark.parametrize("value", [0, -1, 2.5, None])
def test_max_length_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match=r"`max_length` must be a positive integer\. "
                                         rf"Received: max_length={value!r}"):
        PositionEmbedding(max_length=value)
