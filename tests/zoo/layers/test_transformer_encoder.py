import numpy as np

from tests.harness import run_layer_test, to_numpy
from zoo.layers import TransformerEncoderBlock

BAD_ARGUMENTS = [
    {"num_heads": 0}, {"num_heads": 1.5}, {"ff_dim": 0}, {"dropout": 1.0},
    {"dropout": -0.1}, {"activation": "no_such_activation"}, {"activation": 3},
]


def _inputs(batch=2, length=5, width=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, length, width)).astype("float32")
    mask = np.ones((batch, length), bool)
    mask[-1, 3:] = False
    return x, mask


def test_layer(tmp_path):
    x, mask = _inputs()
    run_layer_test(TransformerEncoderBlock, {"num_heads": 2, "ff_dim": 16, "dropout": 0.1},
                   x, expected_output_shape=(2, 5, 8), bad_init_kwargs=BAD_ARGUMENTS,
                   call_kwargs={"padding_mask": mask}, tmp_path=tmp_path)


def test_layer_without_mask(tmp_path):
    x, _ = _inputs()
    run_layer_test(TransformerEncoderBlock, {"num_heads": 4, "ff_dim": 8, "activation": "relu"},
                   x, expected_output_shape=(2, 5, 8), tmp_path=tmp_path)


def test_padded_positions_do_not_affect_real_ones():
    x, _ = _inputs(batch=1, length=6)
    mask = np.array([[True] * 4 + [False] * 2])
    block = TransformerEncoderBlock(num_heads=2, ff_dim=16)
    changed = x.copy()
    changed[:, 4:] = 100.0  # anything at the padded positions
    before = to_numpy(block(x, padding_mask=mask))
    after = to_numpy(block(changed, padding_mask=mask))
    np.testing.assert_allclose(after[:, :4], before[:, :4], atol=1e-5)
    # Without the mask the padding is attended to, so the check above can fail.
    unmasked = to_numpy(block(changed))
    assert not np.allclose(unmasked[:, :4], before[:, :4], atol=1e-3)


def test_every_position_sees_the_whole_sequence():
    x, _ = _inputs(batch=1, length=5)
    block = TransformerEncoderBlock(num_heads=2, ff_dim=16)
    changed = x.copy()
    changed[:, -1] += np.random.default_rng(1).standard_normal(x.shape[-1])
    before, after = to_numpy(block(x)), to_numpy(block(changed))
    assert not np.allclose(after[:, 0], before[:, 0], atol=1e-5)  # not causal
