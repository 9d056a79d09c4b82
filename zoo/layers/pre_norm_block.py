"""What the Transformer encoder and decoder blocks share: arguments, masks, feed-forward."""

import keras
from keras import layers, ops

from zoo import validation


def self_attention_mask(padding_mask):
    """``[batch, length]`` padding mask -> ``[batch, length, length]`` attention mask.

    Every query (padded ones too) sees only the real keys.

    >>> keras.ops.shape(self_attention_mask(np.array([[True, False]])))
    (1, 2, 2)
    """
    keys = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)  # [B, 1, T]
    return ops.logical_and(keys, ops.ones_like(ops.transpose(keys, (0, 2, 1))))


def cross_attention_mask(context_mask, x):
    """``[batch, source]`` context mask -> ``[batch, target, source]`` for queries ``x``."""
    keys = ops.expand_dims(ops.cast(context_mask, "bool"), 1)  # [B, 1, S]
    queries = ops.ones_like(ops.expand_dims(ops.ones_like(x[..., 0], dtype="bool"), 2))
    return ops.logical_and(keys, queries)  # [B, T, S]


class PreNormBlock(keras.layers.Layer):
    """Base of the pre-norm Transformer blocks (not used on its own).

    Checks and stores the arguments the blocks share, checks the model
    width against ``num_heads`` and builds and applies the residual
    feed-forward sub-layer (``ff_norm``, ``ff_hidden``, ``ff_output``).

    Args:
        num_heads: attention heads; must divide the model width.
        ff_dim: hidden width of the feed-forward network.
        dropout: dropout on attention weights and sub-layer outputs.
        activation: feed-forward activation.
    """

    def __init__(self, num_heads, ff_dim, dropout=0.0, activation="gelu", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = validation.positive_int("num_heads", num_heads)
        self.ff_dim = validation.positive_int("ff_dim", ff_dim)
        self.dropout = validation.rate("dropout", dropout)
        self.activation = validation.activation("activation", activation)

    def key_dim(self, width):
        """Width of one attention head; ``num_heads`` must divide ``width``."""
        if width % self.num_heads:
            raise ValueError(
                f"num_heads={self.num_heads} must divide the model width {width}. "
                f"Received: num_heads={self.num_heads}"
            )
        return width // self.num_heads

    def build_attention(self, norm_name, attention_name, query_shape, key_shape):
        """A built ``(LayerNormalization, MultiHeadAttention)`` pair for one sub-layer."""
        norm = layers.LayerNormalization(epsilon=1e-6, name=norm_name)
        attention = layers.MultiHeadAttention(self.num_heads, self.key_dim(query_shape[-1]),
                                              dropout=self.dropout, name=attention_name)
        norm.build(query_shape)
        attention.build(query_shape, key_shape)
        return norm, attention

    def build_feed_forward(self, input_shape):
        width = input_shape[-1]
        self.ff_norm = layers.LayerNormalization(epsilon=1e-6, name="ff_norm")
        self.ff_hidden = layers.Dense(self.ff_dim, activation=self.activation, name="ff_hidden")
        self.ff_output = layers.Dense(width, name="ff_output")
        self.dropout_layer = layers.Dropout(self.dropout)
        self.ff_norm.build(input_shape)
        self.ff_hidden.build(input_shape)
        self.ff_output.build(tuple(input_shape[:-1]) + (self.ff_dim,))

    def residual(self, x, h, training=None):
        """``x + dropout(h)``: one sub-layer's residual connection."""
        return x + self.dropout_layer(h, training=training)

    def feed_forward(self, x, training=None):
        return self.residual(x, self.ff_output(self.ff_hidden(self.ff_norm(x))), training)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout, "activation": self.activation}
