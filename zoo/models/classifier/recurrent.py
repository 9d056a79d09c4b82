"""Recurrent sequence classifiers: ``rnn_classifier`` and its LSTM, GRU and BiLSTM presets."""

from keras import layers

from zoo import search_spaces, validation
from zoo.models.classifier.common import (POOLINGS, TOKEN_OR_SERIES, classifier_head, pool,
                                          register_classifier, sequence_example_data,
                                          sequence_inputs)
from zoo.registry import Capabilities

CELLS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}

# What the applications train (the recurrent taggers use it too).
SMALL = {"embedding_dim": 32, "units": 32, "num_layers": 1, "dropout": 0.0,
         "learning_rate": 3e-3}


@register_classifier(
    "rnn_classifier",
    inputs=TOKEN_OR_SERIES,
    description="Recurrent sequence classifier over token ids (padding masked) or float "
                "series: stacked RNN layers, final state or pooled states, classifier head.",
    citation="Elman, Finding Structure in Time, 1990; Hochreiter & Schmidhuber, Long "
             "Short-Term Memory, 1997; Cho et al., 2014 (GRU); Schuster & Paliwal, 1997 "
             "(bidirectional).",
    search_space=search_spaces.recurrent,
    capabilities=Capabilities(input_kinds=("tokens", "series")),
    sizes={"toy": {"vocab_size": 20, "embedding_dim": 6, "units": 5, "num_layers": 2},
           "small": SMALL},
    example_data=sequence_example_data,
    presets={
        "lstm_classifier": {
            "cell": "lstm", "description": "LSTM sequence classifier.",
            "sizes": {"bench": {"vocab_size": 1000, "embedding_dim": 64, "units": 64,
                                "num_classes": 2, "dropout": 0.0}},
        },
        "gru_classifier": {"cell": "gru", "description": "GRU sequence classifier."},
        "bilstm_classifier": {"cell": "lstm", "bidirectional": True,
                              "description": "Bidirectional LSTM sequence classifier."},
    },
)
def recurrent_classifier(cell="simple", bidirectional=False, input_type="tokens",
                         vocab_size=20000, num_features=1, embedding_dim=128, units=128,
                         num_layers=1, pooling="last", dropout=0.0, num_classes=2):
    """Recurrent classifier.

    Args:
        cell: ``simple`` (Elman RNN), ``lstm`` or ``gru``.
        bidirectional: read the sequence both ways and concatenate.
        input_type: ``tokens`` (int ids, embedded, 0 masked) or ``features``
            (float series ``[length, num_features]``).
        vocab_size: token ids are in ``[0, vocab_size)`` (tokens only).
        num_features: values per time step (features only).
        embedding_dim: token embedding width (tokens only).
        units: recurrent units per layer (and direction).
        num_layers: stacked recurrent layers.
        pooling: ``last`` (final state), ``mean`` or ``max`` over the
            non-padded states.
        dropout: dropout between layers and before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> import zoo
    >>> model = zoo.build("lstm_classifier", vocab_size=500, units=8, num_classes=4)
    >>> model.output_shape
    (None, 4)
    """
    validation.choice("cell", cell, tuple(CELLS))
    validation.choice("pooling", pooling, POOLINGS)
    units = validation.positive_int("units", units)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    num_classes = validation.num_classes("num_classes", num_classes)
    bidirectional = validation.boolean("bidirectional", bidirectional)
    inputs, x, mask = sequence_inputs(input_type, vocab_size, num_features, embedding_dim,
                                      mask_zero=True)
    for i in range(num_layers):
        last = i == num_layers - 1
        rnn = CELLS[cell](units, return_sequences=not (last and pooling == "last"),
                          name=f"{cell}_{i}")
        if bidirectional:
            rnn = layers.Bidirectional(rnn, name=f"bidirectional_{cell}_{i}")
        x = rnn(x)
        if dropout and not last:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    if pooling != "last":
        x = pool(x, mask, pooling)
    name = ("bi" if bidirectional else "") + ("rnn" if cell == "simple" else cell) + "_classifier"
    return classifier_head(x, num_classes, dropout, inputs, name)
