import numpy as np
import pytest

from tests.harness import run_layer_test, to_numpy
from zoo.layers import TransformerDecoderBlock

BAD_ARGUMENTS = [
    {"num_heads": 0}, {"ff_dim": 0}, {"dropout": 1.5}, {"activation": "nope"},
    {"cross_attention": 1}, {"cross_attention": "yes"},
]


def _tokens(batch=2, length=5, width=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, length, width)).astype("float32")


def test_layer_decoder_only(tmp_path):
    x = _tokens()
    mask = np.ones((2, 5), bool)
    mask[0, 4:] = False
    run_layer_test(TransformerDecoderBlock, {"num_heads": 2, "ff_dim": 16}, x,
                   expected_output_shape=(2, 5, 8), bad_init_kwargs=BAD_ARGUMENTS,
                   call_kwargs={"padding_mask": mask}, tmp_path=tmp_path)


def test_layer_with_cross_attention(tmp_path):
    x, context = _tokens(), _tokens(length=7, seed=1)
    context_mask = np.ones((2, 7), bool)
    context_mask[1, 5:] = False
    run_layer_test(TransformerDecoderBlock,
                   {"num_heads": 2, "ff_dim": 16, "dropout": 0.1, "cross_attention": True},
                   x, expected_output_shape=(2, 5, 8),
                   call_kwargs={"context": context, "context_mask": context_mask},
                   tmp_path=tmp_path)


@pytest.mark.parametrize("value", [1, "yes", None])
def test_cross_attention_must_be_a_boolean(value):
    with pytest.raises(ValueError, match=rf"`cross_attention` must be True or False\. "
                                         rf"Received: cross_attention={value!r}"):
        TransformerDecoderBlock(num_heads=2, ff_dim=8, cross_attention=value)


def test_cross_attention_needs_a_context():
    block = TransformerDecoderBlock(num_heads=2, ff_dim=8, cross_attention=True)
    with pytest.raises(ValueError, match=r"needs the encoder states\. Received: context=None"):
        block(_tokens())


def test_causal_a_later_token_does_not_change_earlier_outputs():
    x = _tokens(batch=1, length=6)
    block = TransformerDecoderBlock(num_heads=2, ff_dim=16)
    changed = x.copy()
    changed[:, 3] += 3.0 * np.random.default_rng(1).standard_normal(x.shape[-1])
    before, after = to_numpy(block(x)), to_numpy(block(changed))
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-5)
    assert not np.allclose(after[:, 3:], before[:, 3:], atol=1e-3)


def test_padded_positions_do_not_affect_real_ones():
    # Padding inside the sequence (not only at its end): causality alone
    # would not hide position 1 from positions 2 and 3.
    x = _tokens(batch=1, length=4)
    mask = np.array([[True, False, True, True]])
    block = TransformerDecoderBlock(num_heads=2, ff_dim=16)
    changed = x.copy()
    changed[:, 1] = 20.0 * np.random.default_rng(1).standard_normal(x.shape[-1])
    before = to_numpy(block(x, padding_mask=mask))
    after = to_numpy(block(changed, padding_mask=mask))
    np.testing.assert_allclose(after[:, [0, 2, 3]], before[:, [0, 2, 3]], atol=1e-5)
    unmasked_before, unmasked_after = to_numpy(block(x)), to_numpy(block(changed))
    assert not np.allclose(unmasked_after[:, 2:], unmasked_before[:, 2:], atol=1e-3)


def test_context_mask_hides_padded_context():
    x, context = _tokens(batch=1, length=3), _tokens(batch=1, length=5, seed=1)
    context_mask = np.array([[True, True, True, False, False]])
    block = TransformerDecoderBlock(num_heads=2, ff_dim=16, cross_attention=True)
    changed = context.copy()
    changed[:, 3:] = 20.0 * np.random.default_rng(1).standard_normal((2, x.shape[-1]))
    before = to_numpy(block(x, context=context, context_mask=context_mask))
    after = to_numpy(block(x, context=changed, context_mask=context_mask))
    np.testing.assert_allclose(after, before, atol=1e-5)
    # The context itself matters, and without the mask so does its padding.
    assert not np.allclose(to_numpy(block(x, context=changed)), before, atol=1e-3)
    assert not np.allclose(to_numpy(block(x, context=2.0 * context, context_mask=context_mask)),
                           before, atol=1e-3)


def test_without_cross_attention_it_has_no_cross_attention_weights():
    block = TransformerDecoderBlock(num_heads=2, ff_dim=8)
    block(_tokens())
    assert not [w.path for w in block.weights if "cross" in w.path]
    with_cross = TransformerDecoderBlock(num_heads=2, ff_dim=8, cross_attention=True)
    with_cross(_tokens(), context=_tokens(length=3))
    assert [w.path for w in with_cross.weights if "cross" in w.path]
