"""The pre-norm Transformer encoder block."""

import keras

from zoo.layers.pre_norm_block import PreNormBlock, self_attention_mask


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(PreNormBlock):
    """Pre-norm Transformer encoder block: self-attention and feed-forward,
    each with a residual connection.

    Args:
        num_heads: attention heads; must divide the model width.
        ff_dim: hidden width of the feed-forward network.
        dropout: dropout on attention weights and sub-layer outputs, in [0, 1).
        activation: feed-forward activation.

    Call with ``block(x, padding_mask=mask)``: ``mask`` is a boolean
    ``[batch, length]`` tensor, True for real tokens. Padded keys are
    ignored by every query.

    >>> block = TransformerEncoderBlock(num_heads=2, ff_dim=16)
    >>> x = np.zeros((2, 5, 8), "float32")
    >>> mask = np.array([[True] * 5, [True] * 3 + [False] * 2])
    >>> keras.ops.shape(block(x, padding_mask=mask))
    (2, 5, 8)
    """

    def build(self, input_shape):
        self.attention_norm, self.attention = self.build_attention(
            "attention_norm", "attention", input_shape, input_shape)
        self.build_feed_forward(input_shape)

    def call(self, x, padding_mask=None, training=None):
        attention_mask = None if padding_mask is None else self_attention_mask(padding_mask)
        h = self.attention_norm(x)
        h = self.attention(h, h, attention_mask=attention_mask, training=training)
        return self.feed_forward(self.residual(x, h, training), training)

    def compute_output_shape(self, input_shape):
        return input_shape
