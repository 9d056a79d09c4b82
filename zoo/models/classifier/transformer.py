"""The Transformer encoder classifier over token ids."""

from zoo import search_spaces, validation
from zoo.models.classifier.common import (BOUNDED_TOKENS, classifier_head, pool,
                                          register_classifier, sequence_example_data,
                                          token_transformer)
from zoo.registry import Capabilities

# What the applications train (the transformer tagger uses it too).
SMALL = {"embedding_dim": 32, "num_heads": 2, "ff_dim": 64, "num_layers": 1, "dropout": 0.0,
         "learning_rate": 3e-3}


@register_classifier(
    "transformer_classifier",
    inputs=BOUNDED_TOKENS,
    description="Transformer encoder classifier: token + learned position embedding, "
                "pre-norm encoder blocks with padding-masked self-attention, masked mean "
                "pooling, classifier head.",
    citation="Vaswani et al., Attention Is All You Need, NeurIPS 2017; Devlin et al., "
             "BERT, NAACL 2019.",
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("tokens",)),
    sizes={"toy": {"vocab_size": 20, "max_length": 16, "embedding_dim": 8, "num_heads": 2,
                   "ff_dim": 12, "num_layers": 2},
           "small": SMALL},
    example_data=sequence_example_data,
)
def transformer_classifier(vocab_size=20000, max_length=256, embedding_dim=128, num_heads=4,
                           ff_dim=256, num_layers=2, dropout=0.1, pooling="mean",
                           num_classes=2):
    """Transformer encoder classifier.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        max_length: longest input (learned positions).
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks.
        dropout: dropout in blocks and before the head.
        pooling: ``mean`` or ``max`` over the non-padded tokens.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> import zoo
    >>> model = zoo.build("transformer_classifier", vocab_size=500, embedding_dim=16,
    ...                   num_heads=8, ff_dim=16, num_layers=1)
    >>> model.output_shape
    (None, 1)
    """
    validation.choice("pooling", pooling, ("mean", "max"))
    num_classes = validation.num_classes("num_classes", num_classes)
    tokens, states, mask, dropout = token_transformer(
        vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers, dropout)
    return classifier_head(pool(states, mask, pooling), num_classes, dropout, tokens,
                           "transformer_classifier")
