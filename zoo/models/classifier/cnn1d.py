"""The 1D convolutional classifier for text and series."""

from keras import layers

from zoo import validation
from zoo.layers import ZeroMasked
from zoo.models.classifier.common import (TOKEN_OR_SERIES, classifier_head, conv_search_space,
                                          pool, register_classifier, sequence_example_data,
                                          sequence_inputs)
from zoo.registry import Capabilities


@register_classifier(
    "cnn1d_classifier",
    inputs=TOKEN_OR_SERIES,
    description="1D convolutional classifier for local patterns in text or series: "
                "'same' convolutions with padding held at zero, then masked global pooling. "
                "pooling='max' detects the presence of a motif; pooling='mean' suits counts "
                "and proportions (e.g. more A than B), which max pooling cannot count.",
    citation="Kim, Convolutional Neural Networks for Sentence Classification, EMNLP 2014.",
    search_space=conv_search_space,
    capabilities=Capabilities(input_kinds=("tokens", "series")),
    sizes={"toy": {"vocab_size": 20, "embedding_dim": 6, "filters": (5, 4), "kernel_size": 3},
           "small": {"embedding_dim": 32, "filters": (64, 64), "kernel_size": 3,
                     "dropout": 0.0, "learning_rate": 3e-3}},
    example_data=sequence_example_data,
)
def cnn1d_classifier(input_type="tokens", vocab_size=20000, num_features=1, embedding_dim=128,
                     filters=(128, 128), kernel_size=5, activation="relu", pooling="max",
                     dropout=0.0, num_classes=2):
    """1D CNN classifier.

    Args:
        input_type: ``tokens`` or ``features`` (see ``rnn_classifier``).
        vocab_size: token ids are in ``[0, vocab_size)`` (tokens only).
        num_features: values per time step (features only).
        embedding_dim: token embedding width (tokens only).
        filters: filters of each convolution, in order.
        kernel_size: odd window of every convolution.
        activation: convolution activation.
        pooling: ``max`` or ``mean`` over the non-padded positions. ``max``
            detects the presence of a motif; ``mean`` suits counts and
            proportions (e.g. "more A than B"), which ``max`` cannot count.
        dropout: dropout before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> import zoo
    >>> model = zoo.build("cnn1d_classifier", vocab_size=500, filters=(16, 16))
    >>> model.output_shape
    (None, 1)
    """
    filters = validation.non_empty("filters", validation.positive_int_tuple("filters", filters),
                                   "at least one convolution")
    kernel_size = validation.odd_int("kernel_size", kernel_size)
    activation = validation.activation("activation", activation)
    validation.choice("pooling", pooling, ("max", "mean"))
    dropout = validation.rate("dropout", dropout)
    num_classes = validation.num_classes("num_classes", num_classes)
    inputs, x, mask = sequence_inputs(input_type, vocab_size, num_features, embedding_dim,
                                      mask_zero=False)
    if mask is not None:
        x = ZeroMasked(name="zero_padding_embedding")([x, mask])
    for i, width in enumerate(filters):
        x = layers.Conv1D(width, kernel_size, padding="same", activation=activation,
                          name=f"conv_{i}")(x)
        if mask is not None:
            x = ZeroMasked(name=f"zero_padding_{i}")([x, mask])
    return classifier_head(pool(x, mask, pooling), num_classes, dropout, inputs,
                           "cnn1d_classifier")
