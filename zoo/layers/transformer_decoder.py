"""The pre-norm Transformer decoder block (causal, optionally with cross-attention).

Besides ``call`` (the whole sequence at once, for training), the block runs
incrementally for generation with a key/value cache: ``prefill`` reads a
prompt and returns its keys and values, ``context_cache`` projects an
encoder's states once, and ``call_cached`` feeds one token per row at that
row's position, writing its key and value into the cache. ``step_blocks``
runs a stack of blocks that way over one cache dict, whose entries
``cache_names`` names.
"""

import math

import keras
from keras import ops

from zoo import validation
from zoo.layers.pre_norm_block import PreNormBlock, cross_attention_mask, self_attention_mask


def cache_names(i):
    """The cache entries of the ``i``-th block: self-attention keys and values, then the
    cross-attention keys and values of the encoder states.

    >>> cache_names(0)
    ('keys_0', 'values_0', 'context_keys_0', 'context_values_0')
    """
    return f"keys_{i}", f"values_{i}", f"context_keys_{i}", f"context_values_{i}"


def step_blocks(blocks, x, cache, positions, context_mask=None):
    """One new token per row, ``x`` ``[batch, 1, width]``, through a stack of ``blocks``.

    ``cache`` holds each block's entries (``cache_names``; the context ones
    only for blocks with cross-attention). Returns ``(outputs, cache)``, the
    cache a new dict with the self-attention entries updated.
    """
    cache = dict(cache)
    for i, block in enumerate(blocks):
        keys, values, context_keys, context_values = cache_names(i)
        context = (cache[context_keys], cache[context_values]) if block.cross_attention \
            else None
        x, cache[keys], cache[values] = block.call_cached(
            x, cache[keys], cache[values], positions, context_cache=context,
            context_mask=context_mask)
    return x, cache


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

    # --- incremental decoding with a key/value cache (generation) -------------------------
    # Cached keys and values are laid out [batch, heads, positions, head_dim], so that
    # attention contracts them without moving the cache in memory.

    @staticmethod
    def _heads_first(x):
        return ops.transpose(x, (0, 2, 1, 3))

    def _attend(self, attention, query_input, keys, values, mask):
        """Multi-head attention of ``query_input`` over cached ``keys``/``values``.

        The same projections and scaling as ``MultiHeadAttention.call`` at
        inference (no dropout); ``mask`` is boolean, broadcast to
        ``[batch, heads, queries, keys]``.
        """
        query = self._heads_first(attention.query_dense(query_input))
        query = query * ops.cast(1.0 / math.sqrt(attention.key_dim), query.dtype)
        scores = ops.einsum("bhqd,bhkd->bhqk", query, keys)
        if mask is not None:
            scores = ops.where(mask, scores, ops.cast(-1e9, scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        attended = ops.einsum("bhqk,bhkd->bhqd", weights, values)
        return attention.output_dense(self._heads_first(attended))

    def _projected(self, attention, inputs):
        return (self._heads_first(attention.key_dense(inputs)),
                self._heads_first(attention.value_dense(inputs)))

    def context_cache(self, context):
        """Cross-attention keys and values of the encoder states, computed once.

        Returns ``(keys, values)``, each ``[batch, heads, source, head_dim]``.
        """
        if not self.cross_attention:
            raise ValueError("context_cache needs a block with cross_attention=True. "
                             "Received: cross_attention=False")
        return self._projected(self.cross_attention_layer, context)

    def _cross_and_feed_forward(self, x, context_cache, context_mask):
        if self.cross_attention:
            if context_cache is None:
                raise ValueError("A decoder block with cross_attention=True needs the "
                                 "encoder's keys and values. Received: context_cache=None")
            keys, values = context_cache
            mask = None if context_mask is None else \
                ops.expand_dims(ops.expand_dims(ops.cast(context_mask, "bool"), 1), 1)
            x = x + self._attend(self.cross_attention_layer, self.cross_norm(x), keys, values,
                                 mask)
        return self.feed_forward(x, training=False)

    def prefill(self, x, context_cache=None, context_mask=None):
        """The block over a whole prompt ``x`` (positions 0 .. length-1), causally.

        Returns ``(outputs, keys, values)``: the outputs of ``call`` on
        ``x`` (a right-padded prompt's real positions never see its
        padding) and the self-attention keys and values of every position,
        ``[batch, heads, length, head_dim]``, to seed the cache.
        """
        h = self.self_norm(x)
        keys, values = self._projected(self.self_attention, h)
        length = ops.shape(x)[1]
        causal = ops.tril(ops.ones((length, length), "bool"))[None, None]
        x = x + self._attend(self.self_attention, h, keys, values, causal)
        return self._cross_and_feed_forward(x, context_cache, context_mask), keys, values

    def call_cached(self, x, keys, values, positions, context_cache=None, context_mask=None):
        """One new token per row: ``x`` ``[batch, 1, width]`` at ``positions`` ``[batch]``.

        Writes the token's key and value at its row's position of the
        cache (``keys``/``values``: ``[batch, heads, cache_length,
        head_dim]``) and attends over positions ``<=`` it.

        Returns ``(outputs, keys, values)`` with the updated cache.
        """
        h = self.self_norm(x)
        new_key, new_value = self._projected(self.self_attention, h)  # [B, H, 1, D]
        batch, heads = ops.shape(keys)[0], ops.shape(keys)[1]
        positions = ops.cast(positions, "int32")
        where = ops.stack([
            ops.repeat(ops.arange(batch, dtype="int32"), heads),
            ops.tile(ops.arange(heads, dtype="int32"), (batch,)),
            ops.repeat(positions, heads)], axis=1)  # (row, head, position) per update
        keys = ops.scatter_update(keys, where, ops.reshape(new_key, (batch * heads, -1)))
        values = ops.scatter_update(values, where, ops.reshape(new_value, (batch * heads, -1)))
        visible = ops.arange(ops.shape(keys)[2], dtype="int32")[None, :] <= positions[:, None]
        mask = visible[:, None, None, :]  # [batch, 1, 1, cache_length]
        x = x + self._attend(self.self_attention, h, keys, values, mask)
        return self._cross_and_feed_forward(x, context_cache, context_mask), keys, values

    def compute_output_shape(self, input_shape, *args, **kwargs):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "cross_attention": self.cross_attention}
