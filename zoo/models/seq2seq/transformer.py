"""``transformer_seq2seq``: Transformer encoder-decoder, and its generation stepper.

``TransformerSeq2SeqStepper`` encodes the source once, computes each
decoder block's cross-attention keys and values once, and keeps a
key/value cache of the decoder's self-attention: a step feeds one token.
"""

import keras
from keras import layers, ops

from zoo import search_spaces, validation
from zoo.generation import Prepared, bucket
from zoo.layers import (PaddingMask, PositionEmbedding, TransformerDecoderBlock,
                        TransformerEncoderBlock, cache_names, step_blocks)
from zoo.model import ZooModel, sub_model
from zoo.models.seq2seq.common import (LOGITS, MEMORY, REGISTRATION, SOURCE_EMBEDDING,
                                       SOURCE_MASK, SOURCE_TOKENS, TARGET_EMBEDDING,
                                       TARGET_TOKENS, Seq2SeqStepper, check_common)
from zoo.registry import Capabilities, register_model

# Layer names (saved in every .keras file: never change them).
SOURCE_POSITIONS = "source_positions"
TARGET_POSITIONS = "target_positions"
TARGET_MASK = "target_mask"
ENCODER_NORM = "encoder_norm"
DECODER_NORM = "decoder_norm"


def encoder_block(i):
    """Name of the ``i``-th encoder block."""
    return f"encoder_block_{i}"


def decoder_block(i):
    """Name of the ``i``-th decoder block."""
    return f"decoder_block_{i}"


class TransformerSeq2SeqStepper(Seq2SeqStepper):
    """Encoder once; a key/value cache per decoder block; one token per step.

    The source is encoded once and each block's cross-attention keys and
    values are computed from it once. Reads ``num_layers``,
    ``max_source_length`` and ``max_target_length`` from
    ``zoo.model_params(model)``.

    Args:
        model: a ``transformer_seq2seq`` model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("transformer_seq2seq", size="toy")
    >>> TransformerSeq2SeqStepper(model).run(np.array([[3, 4, 0]]), max_length=3).shape
    (1, 3, 12)
    """

    def __init__(self, model):
        super().__init__(model)
        self.max_source_length = self.params["max_source_length"]
        self.max_target_length = self.params["max_target_length"]
        self.encoder = sub_model(model, model.get_layer(MEMORY).output,
                                 name=f"{model.name}_encoder")
        self.embedding = model.get_layer(TARGET_EMBEDDING)
        self.positions = model.get_layer(TARGET_POSITIONS)
        self.blocks = [model.get_layer(decoder_block(i))
                       for i in range(self.params["num_layers"])]
        self.final_norm = model.get_layer(DECODER_NORM)
        self.logits = model.get_layer(LOGITS)

    def prepare(self, source, max_length):
        if max_length + 1 > self.max_target_length:
            raise ValueError(
                f"`max_length` + 1 (the start token) must fit max_target_length="
                f"{self.max_target_length}. Received: max_length={max_length}")
        source = self.bucketed_source(source)
        return Prepared({SOURCE_TOKENS: source},
                        (bucket(max_length, cap=self.max_target_length),))

    def start(self, feeds, layout):
        (cache_length,) = layout
        source = feeds[SOURCE_TOKENS]
        memory = self.encoder(source)
        batch = ops.shape(source)[0]
        cache = {SOURCE_MASK: ops.not_equal(source, 0),
                 "position": ops.zeros((batch,), "int32")}
        for i, block in enumerate(self.blocks):
            keys, values, context_keys, context_values = cache_names(i)
            cache[context_keys], cache[context_values] = block.context_cache(memory)
            heads, _, head_dim = tuple(cache[context_keys].shape)[1:]
            shape = (batch, heads, cache_length, head_dim)
            cache[keys] = ops.zeros(shape, cache[context_keys].dtype)
            cache[values] = ops.zeros(shape, cache[context_keys].dtype)
        return self.step(cache, self.start_tokens(batch), layout)

    def step(self, cache, token, layout):
        position = cache["position"]
        x = self.positions.at(self.embedding(token[:, None]), position)
        x, cache = step_blocks(self.blocks, x, cache, position, context_mask=cache[SOURCE_MASK])
        cache["position"] = position + 1
        return self.logits(self.final_norm(x[:, 0])), cache


@register_model(
    "transformer_seq2seq",
    **REGISTRATION,
    inputs={
        SOURCE_TOKENS: "int32 [batch, source_len <= max_source_length], 0 = padding",
        TARGET_TOKENS: "int32 [batch, target_len <= max_target_length], starts with "
                       "start_token",
    },
    description="Transformer encoder-decoder: token + learned position embeddings, "
                "pre-norm encoder blocks, decoder blocks with causal self-attention and "
                "cross-attention over the encoder states.",
    citation="Vaswani et al., Attention Is All You Need, NeurIPS 2017.",
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("token_pairs",), generation="seq2seq",
                              stepper=TransformerSeq2SeqStepper),
    sizes={
        "toy": {"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 8,
                "num_heads": 2, "ff_dim": 12, "num_layers": 1, "max_source_length": 16,
                "max_target_length": 16},
        "small": {"embedding_dim": 64, "num_heads": 4, "ff_dim": 128, "num_layers": 2,
                  "dropout": 0.0, "learning_rate": 1e-3},
    },
)
def transformer_seq2seq(source_vocab_size=100, target_vocab_size=100, max_source_length=128,
                        max_target_length=128, embedding_dim=128, num_heads=4, ff_dim=256,
                        num_layers=2, dropout=0.1, start_token=1, end_token=2):
    """Transformer encoder-decoder.

    Args:
        source_vocab_size, target_vocab_size: token ids are in ``[0, size)``;
            0 is padding.
        max_source_length, max_target_length: longest inputs (learned positions).
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks and decoder blocks.
        dropout: dropout in the blocks.
        start_token, end_token: ids that open decoder inputs and close targets.

    Layers reused by generation: ``code_memory`` (the encoder states),
    ``target_embedding``, ``target_positions``, ``decoder_block(i)``,
    ``decoder_norm`` and ``logits``.

    >>> import zoo
    >>> model = zoo.build("transformer_seq2seq", size="toy")
    >>> model.output_shape
    (None, None, 12)
    """
    source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout = check_common(
        source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout,
        start_token, end_token)
    num_heads = validation.heads("num_heads", num_heads, embedding_dim)
    ff_dim = validation.positive_int("ff_dim", ff_dim)
    max_source_length = validation.positive_int("max_source_length", max_source_length)
    max_target_length = validation.positive_int("max_target_length", max_target_length)

    source = keras.Input((None,), dtype="int32", name=SOURCE_TOKENS)
    target = keras.Input((None,), dtype="int32", name=TARGET_TOKENS)
    source_mask = PaddingMask(name=SOURCE_MASK)(source)
    target_mask = PaddingMask(name=TARGET_MASK)(target)

    x = layers.Embedding(source_vocab_size, embedding_dim, name=SOURCE_EMBEDDING)(source)
    x = PositionEmbedding(max_source_length, name=SOURCE_POSITIONS)(x)
    for i in range(num_layers):
        x = TransformerEncoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=encoder_block(i))(x, padding_mask=source_mask)
    memory = layers.LayerNormalization(epsilon=1e-6, name=ENCODER_NORM)(x)
    memory = layers.Identity(name=MEMORY)(memory)

    y = layers.Embedding(target_vocab_size, embedding_dim, name=TARGET_EMBEDDING)(target)
    y = PositionEmbedding(max_target_length, name=TARGET_POSITIONS)(y)
    for i in range(num_layers):
        y = TransformerDecoderBlock(num_heads, ff_dim, dropout=dropout, cross_attention=True,
                                    name=decoder_block(i))(
            y, context=memory, padding_mask=target_mask, context_mask=source_mask)
    y = layers.LayerNormalization(epsilon=1e-6, name=DECODER_NORM)(y)
    logits = layers.Dense(target_vocab_size, name=LOGITS)(y)
    return ZooModel({SOURCE_TOKENS: source, TARGET_TOKENS: target}, logits,
                    name="transformer_seq2seq")
