"""The pre-norm Transformer decoder block (causal, optionally with cross-attention)."""

import keras

from zoo import validation
from zoo.layers.pre_norm_block import PreNormBlock, cross_attention_mask, self_attention_mask


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderBlock(PreNormBlock):
    """Pre-norm Transformer decoder block: causal self-attention, optional
    cross-attention over an encoder's states, feed-forward; each residual.

    The causal mask comes from ``use_causal_mask=True`` (built from static
    shapes inside Keras), so it compiles under JAX.

    Args:
        num_heads: attention heads; must divide the model width.
        ff_dim: hidden width of the feed-forward network.
        dropout: dropout on attention weights and sub-layer outputs, in [0, 1).
        activation: feed-forward activation.
        cross_attention: add cross-attention (encoder-decoder models).

    Call with ``block(x, padding_mask=target_mask)`` for a decoder-only
    model, and add ``context=encoder_states, context_mask=source_mask``
    when ``cross_attention=True``.

    >>> block = TransformerDecoderBlock(num_heads=2, ff_dim=16, cross_attention=True)
    >>> x, context = np.zeros((2, 4, 8), "float32"), np.ones((2, 6, 8), "float32")
    >>> keras.ops.shape(block(x, context=context))
    (2, 4, 8)
    """

    def __init__(self, num_heads, ff_dim, dropout=0.0, activation="gelu",
                 cross_attention=False, **kwargs):
        super().__init__(num_heads, ff_dim, dropout=dropout, activation=activation, **kwargs)
        self.cross_attention = validation.boolean("cross_attention", cross_attention)

    def build(self, x_shape, context_shape=None):
        self.self_norm, self.self_attention = self.build_attention(
            "self_attention_norm", "self_attention", x_shape, x_shape)
        if self.cross_attention:
            self.cross_norm, self.cross_attention_layer = self.build_attention(
                "cross_attention_norm", "cross_attention", x_shape, context_shape or x_shape)
        self.build_feed_forward(x_shape)

    def call(self, x, context=None, padding_mask=None, context_mask=None, training=None):
        if self.cross_attention and context is None:
            raise ValueError("A decoder block with cross_attention=True needs the encoder "
                             "states. Received: context=None")
        self_mask = None if padding_mask is None else self_attention_mask(padding_mask)
        h = self.self_norm(x)
        h = self.self_attention(h, h, attention_mask=self_mask, use_causal_mask=True,
                                training=training)
        x = self.residual(x, h, training)
        if self.cross_attention:
            cross_mask = None if context_mask is None else cross_attention_mask(context_mask, x)
            h = self.cross_norm(x)
            h = self.cross_attention_layer(h, context, attention_mask=cross_mask,
                                           training=training)
            x = self.residual(x, h, training)
        return self.feed_forward(x, training)

    def compute_output_shape(self, input_shape, *args, **kwargs):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "cross_attention": self.cross_attention}
