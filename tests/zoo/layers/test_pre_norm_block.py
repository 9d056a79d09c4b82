"""What both Transformer blocks share: argument checks, head width, masks."""

import numpy as np
import pytest

from tests.harness import to_numpy
from zoo.layers import TransformerDecoderBlock, TransformerEncoderBlock
from zoo.layers.pre_norm_block import cross_attention_mask, self_attention_mask

BLOCKS = [TransformerEncoderBlock, TransformerDecoderBlock]


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("arguments, message", [
    ({"num_heads": 0}, r"`num_heads` must be a positive integer\. Received: num_heads=0"),
    ({"num_heads": 1.5}, r"`num_heads` must be a positive integer\. Received: num_heads=1\.5"),
    ({"ff_dim": -2}, r"`ff_dim` must be a positive integer\. Received: ff_dim=-2"),
    ({"dropout": 1.0}, r"`dropout` must be a number in \[0, 1\)\. Received: dropout=1\.0"),
    ({"dropout": -0.1}, r"`dropout` must be a number in \[0, 1\)\. Received: dropout=-0\.1"),
    ({"activation": "nope"}, r"`activation` must be the name .*Received: activation='nope'"),
    ({"activation": 3}, r"`activation` must be the name .*Received: activation=3"),
])
def test_bad_arguments_are_refused(block, arguments, message):
    with pytest.raises(ValueError, match=message):
        block(**{"num_heads": 2, "ff_dim": 8, **arguments})


@pytest.mark.parametrize("block", BLOCKS)
def test_num_heads_must_divide_the_width(block):
    layer = block(num_heads=3, ff_dim=8)
    with pytest.raises(ValueError, match=r"must divide the model width 8\. Received: num_heads=3"):
        layer(np.zeros((1, 4, 8), "float32"))


@pytest.mark.parametrize("block", BLOCKS)
def test_dropout_only_in_training(block):
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
    layer = block(num_heads=2, ff_dim=16, dropout=0.5)
    np.testing.assert_allclose(to_numpy(layer(x)), to_numpy(layer(x)), atol=1e-6)
    assert not np.allclose(to_numpy(layer(x, training=True)), to_numpy(layer(x)), atol=1e-3)


def test_self_attention_mask_hides_padded_keys_from_every_query():
    mask = to_numpy(self_attention_mask(np.array([[True, True, False]])))
    assert mask.tolist() == [[[True, True, False]] * 3]


def test_cross_attention_mask_has_one_row_per_query():
    queries = np.zeros((1, 2, 4), "float32")
    mask = to_numpy(cross_attention_mask(np.array([[True, False, True]]), queries))
    assert mask.tolist() == [[[True, False, True]] * 2]
