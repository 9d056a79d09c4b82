"""Transformer building blocks: learned positions and a pre-norm encoder block."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of each position to ``[batch, length, dim]``.

    Positions are computed inside the layer (not frozen into the graph when
    the model is wired), so the model trains on every backend.

    Args:
        max_length: the longest sequence the layer accepts.

    >>> x = PositionEmbedding(max_length=128)(token_embeddings)
    """

    def __init__(self, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def build(self, input_shape):
        length = input_shape[1]
        if length is not None and length > self.max_length:
            raise ValueError(
                f"Sequences of length {length} exceed max_length={self.max_length}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.embeddings = self.add_weight(
            shape=(self.max_length, input_shape[-1]), initializer="glorot_uniform",
            name="embeddings")

    def call(self, x):
        length = ops.shape(x)[1]
        if isinstance(length, int) and length > self.max_length:
            raise ValueError(
                f"Sequences of length {length} exceed max_length={self.max_length}. "
                f"Received: a batch of shape {tuple(ops.shape(x))}"
            )
        positions = ops.cast(self.embeddings[:length], x.dtype)
        return x + ops.expand_dims(positions, 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """Pre-norm Transformer encoder block: self-attention and feed-forward,
    each with a residual connection.

    Args:
        num_heads: attention heads; must divide the model width.
        ff_dim: hidden width of the feed-forward network.
        dropout: dropout on attention weights and sub-layer outputs.
        activation: feed-forward activation.

    Call with ``block(x, padding_mask=mask)``: ``mask`` is a boolean
    ``[batch, length]`` tensor, True for real tokens. Padded keys are
    ignored by every query.

    >>> block = TransformerEncoderBlock(num_heads=4, ff_dim=128)
    >>> y = block(x, padding_mask=mask)
    """

    def __init__(self, num_heads, ff_dim, dropout=0.0, activation="gelu", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.activation = activation

    def build(self, input_shape):
        width = input_shape[-1]
        if width % self.num_heads:
            raise ValueError(
                f"num_heads={self.num_heads} must divide the model width {width}. "
                f"Received: num_heads={self.num_heads}"
            )
        self.attention_norm = layers.LayerNormalization(epsilon=1e-6, name="attention_norm")
        self.attention = layers.MultiHeadAttention(
            self.num_heads, width // self.num_heads, dropout=self.dropout, name="attention")
        self.ff_norm = layers.LayerNormalization(epsilon=1e-6, name="ff_norm")
        self.ff_hidden = layers.Dense(self.ff_dim, activation=self.activation, name="ff_hidden")
        self.ff_output = layers.Dense(width, name="ff_output")
        self.dropout_layer = layers.Dropout(self.dropout)
        self.attention_norm.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.ff_norm.build(input_shape)
        self.ff_hidden.build(input_shape)
        self.ff_output.build(tuple(input_shape[:-1]) + (self.ff_dim,))

    def call(self, x, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            keys = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)  # [B, 1, T]
            # [B, T, T]: every query (padded ones too) sees only the real keys.
            attention_mask = ops.logical_and(keys, ops.ones_like(ops.transpose(keys, (0, 2, 1))))
        h = self.attention_norm(x)
        h = self.attention(h, h, attention_mask=attention_mask, training=training)
        x = x + self.dropout_layer(h, training=training)
        h = self.ff_output(self.ff_hidden(self.ff_norm(x)))
        return x + self.dropout_layer(h, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout, "activation": self.activation}


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderBlock(keras.layers.Layer):
    """Pre-norm Transformer decoder block: causal self-attention, optional
    cross-attention over an encoder's states, feed-forward; each residual.

    The causal mask comes from ``use_causal_mask=True`` (built from static
    shapes inside Keras), so it compiles under JAX.

    Args:
        num_heads: attention heads; must divide the model width.
        ff_dim: hidden width of the feed-forward network.
        dropout: dropout on attention weights and sub-layer outputs.
        activation: feed-forward activation.
        cross_attention: add cross-attention (encoder-decoder models).

    Call with ``block(x, padding_mask=target_mask)`` for a decoder-only
    model, and add ``context=encoder_states, context_mask=source_mask``
    when ``cross_attention=True``.

    >>> block = TransformerDecoderBlock(num_heads=4, ff_dim=128)
    >>> y = block(x)
    """

    def __init__(self, num_heads, ff_dim, dropout=0.0, activation="gelu",
                 cross_attention=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.activation = activation
        self.cross_attention = cross_attention

    def build(self, x_shape, context_shape=None):
        input_shape = x_shape
        width = input_shape[-1]
        if width % self.num_heads:
            raise ValueError(
                f"num_heads={self.num_heads} must divide the model width {width}. "
                f"Received: num_heads={self.num_heads}"
            )
        key_dim = width // self.num_heads
        self.self_norm = layers.LayerNormalization(epsilon=1e-6, name="self_attention_norm")
        self.self_attention = layers.MultiHeadAttention(
            self.num_heads, key_dim, dropout=self.dropout, name="self_attention")
        self.self_norm.build(input_shape)
        self.self_attention.build(input_shape, input_shape)
        if self.cross_attention:
            context_shape = context_shape or input_shape
            self.cross_norm = layers.LayerNormalization(epsilon=1e-6, name="cross_attention_norm")
            self.cross_attention_layer = layers.MultiHeadAttention(
                self.num_heads, key_dim, dropout=self.dropout, name="cross_attention")
            self.cross_norm.build(input_shape)
            self.cross_attention_layer.build(input_shape, context_shape)
        self.ff_norm = layers.LayerNormalization(epsilon=1e-6, name="ff_norm")
        self.ff_hidden = layers.Dense(self.ff_dim, activation=self.activation, name="ff_hidden")
        self.ff_output = layers.Dense(width, name="ff_output")
        self.dropout_layer = layers.Dropout(self.dropout)
        self.ff_norm.build(input_shape)
        self.ff_hidden.build(input_shape)
        self.ff_output.build(tuple(input_shape[:-1]) + (self.ff_dim,))

    def call(self, x, context=None, padding_mask=None, context_mask=None, training=None):
        self_mask = None
        if padding_mask is not None:
            keys = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)
            self_mask = ops.logical_and(keys, ops.ones_like(ops.transpose(keys, (0, 2, 1))))
        h = self.self_norm(x)
        h = self.self_attention(h, h, attention_mask=self_mask, use_causal_mask=True,
                                training=training)
        x = x + self.dropout_layer(h, training=training)
        if self.cross_attention:
            cross_mask = None
            if context_mask is not None:
                keys = ops.expand_dims(ops.cast(context_mask, "bool"), 1)  # [B, 1, S]
                queries = ops.ones_like(ops.expand_dims(ops.ones_like(x[..., 0], dtype="bool"), 2))
                cross_mask = ops.logical_and(keys, queries)  # [B, T, S]
            h = self.cross_norm(x)
            h = self.cross_attention_layer(h, context, attention_mask=cross_mask,
                                           training=training)
            x = x + self.dropout_layer(h, training=training)
        h = self.ff_output(self.ff_hidden(self.ff_norm(x)))
        return x + self.dropout_layer(h, training=training)

    def compute_output_shape(self, input_shape, *args, **kwargs):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout, "activation": self.activation,
                "cross_attention": self.cross_attention}
