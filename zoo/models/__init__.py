"""The model families, one package each; importing this registers every model.

Each family folder holds everything about its models: builders with their
registrations (capabilities, size presets, search spaces, example data),
the family's own layers and model classes, and its inference code.
"""

from zoo.models import autoencoder, classifier, decoder, graph, seq2seq  # noqa: F401
