"""Constants shared across the zoo, each declared once.

>>> from zoo.constants import PAD_ID, UNLABELLED
>>> PAD_ID, UNLABELLED
(0, -1)
"""

# Token id 0 is padding in every token model: masked in layers, losses and metrics.
PAD_ID = 0
# Node label that marks an unlabelled node: left out of graph losses and metrics.
UNLABELLED = -1
# The model families of the registry; each is a folder under ``zoo/models/``.
FAMILIES = ("autoencoder", "classifier", "decoder", "graph", "seq2seq")
# The Keras backends the zoo runs on.
BACKENDS = ("tensorflow", "jax", "torch")
# What a model takes as input (``Capabilities.input_kinds``).
INPUT_KINDS = ("vectors", "images", "series", "tokens", "token_pairs", "graph")
# How a model generates (``Capabilities.generation``).
GENERATION_KINDS = ("seq2seq", "language_model")
