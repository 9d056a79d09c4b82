"""Token taggers: one label per token from (bi)LSTM states or Transformer encoder states."""

from keras import layers

from zoo import search_spaces, validation
from zoo.models.classifier import recurrent, transformer
from zoo.models.classifier.common import (BOUNDED_TOKENS, TOKENS, register_tagger,
                                          sequence_inputs, tagger_head, tagging_example_data,
                                          token_transformer)


@register_tagger(
    "lstm_tagger",
    inputs=TOKENS,
    description="Token tagger (named-entity style): embedding, (bi)LSTM states, one "
                "label per token; padding is masked out of the loss and the accuracy.",
    citation="Huang, Xu & Yu, Bidirectional LSTM-CRF Models for Sequence Tagging, 2015 "
             "(without the CRF).",
    search_space=search_spaces.recurrent,
    sizes={"toy": {"vocab_size": 20, "embedding_dim": 6, "units": 5, "num_tags": 4},
           "small": recurrent.SMALL},
    example_data=tagging_example_data,
)
def lstm_tagger(vocab_size=20000, embedding_dim=128, units=128, num_layers=1,
                bidirectional=True, dropout=0.0, num_tags=9):
    """LSTM tagger.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        embedding_dim: token embedding width.
        units: LSTM units per layer and direction.
        num_layers: stacked LSTM layers.
        bidirectional: read both ways (the usual choice for tagging).
        dropout: dropout between layers and before the head.
        num_tags: real tags, numbered ``1 .. num_tags`` (0 marks padding).

    >>> import zoo
    >>> model = zoo.build("lstm_tagger", vocab_size=500, units=8, num_tags=9)
    >>> model.output_shape
    (None, None, 10)
    """
    units, num_layers, num_tags = validation.positive_ints(units=units, num_layers=num_layers,
                                                           num_tags=num_tags)
    dropout = validation.rate("dropout", dropout)
    bidirectional = validation.boolean("bidirectional", bidirectional)
    tokens, x, _ = sequence_inputs("tokens", vocab_size, None, embedding_dim, mask_zero=True)
    for i in range(num_layers):
        rnn = layers.LSTM(units, return_sequences=True, name=f"lstm_{i}")
        if bidirectional:
            rnn = layers.Bidirectional(rnn, name=f"bidirectional_lstm_{i}")
        x = rnn(x)
        if dropout and i < num_layers - 1:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    return tagger_head(x, num_tags, dropout, tokens, "lstm_tagger")


def transformer_tagger_search_space(hp):
    """The Transformer space (``search_spaces.transformer``) plus the two outer dropouts."""
    return {**search_spaces.transformer(hp),
            "embedding_dropout": search_spaces.dropout(hp, high=0.3, name="embedding_dropout"),
            "head_dropout": search_spaces.dropout(hp, high=0.3, name="head_dropout")}


@register_tagger(
    "transformer_tagger",
    inputs=BOUNDED_TOKENS,
    description="Token tagger on a Transformer encoder: per-token states of padding-masked "
                "self-attention blocks, one label per token. dropout acts inside the blocks "
                "only; embedding_dropout and head_dropout (default 0) cost accuracy on small "
                "data, raise them for large data.",
    citation="Vaswani et al., 2017; Devlin et al., BERT, 2019 (token classification).",
    search_space=transformer_tagger_search_space,
    sizes={"toy": {"vocab_size": 20, "max_length": 16, "embedding_dim": 8, "num_heads": 2,
                   "ff_dim": 12, "num_layers": 1, "num_tags": 4},
           "small": transformer.SMALL},
    example_data=tagging_example_data,
)
def transformer_tagger(vocab_size=20000, max_length=256, embedding_dim=128, num_heads=4,
                       ff_dim=256, num_layers=2, dropout=0.1, embedding_dropout=0.0,
                       head_dropout=0.0, num_tags=9):
    """Transformer tagger.

    Args:
        vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers:
            the Transformer encoder, as for ``transformer_classifier``
            (token 0 is padding; ``num_heads`` must divide ``embedding_dim``).
        dropout: dropout inside the encoder blocks (attention weights and
            the residual branches), in [0, 1).
        embedding_dropout: dropout on the embedded tokens, in [0, 1). Files
            saved before it existed keep the dropout they were built with.
        head_dropout: dropout on the per-token states before the softmax,
            in [0, 1).
        num_tags: real tags, numbered ``1 .. num_tags`` (0 marks padding).

    Per-token labels leave little redundancy to drop: on small data, dropout
    on the embeddings and before the head cost about 0.1 token accuracy,
    hence their default of 0.

    >>> import zoo
    >>> model = zoo.build("transformer_tagger", vocab_size=500, embedding_dim=16,
    ...                   ff_dim=16, num_layers=1, num_tags=9)
    >>> model.output_shape
    (None, None, 10)
    """
    num_tags = validation.positive_int("num_tags", num_tags)
    embedding_dropout = validation.rate("embedding_dropout", embedding_dropout)
    head_dropout = validation.rate("head_dropout", head_dropout)
    tokens, states, _, _ = token_transformer(
        vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers, dropout,
        embedding_dropout, position_initializer="random_normal")
    return tagger_head(states, num_tags, head_dropout, tokens, "transformer_tagger")
