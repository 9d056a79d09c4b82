"""The classifier family: sequence, image and token classifiers, and taggers.

One module per model (``recurrent``, ``cnn1d``, ``cnn2d``, ``transformer``,
``vit``, ``tagger``) and what they share in ``common`` (compile functions,
inputs, pooling, heads, the Transformer encoder stack, example data).
Importing this package registers every model.
"""

from zoo.models.classifier import cnn1d, cnn2d, recurrent, tagger, transformer, vit  # noqa: F401
from zoo.models.classifier.common import compile_classifier, compile_tagger

__all__ = ["compile_classifier", "compile_tagger"]
