"""The Vision Transformer image classifier."""

import keras
from keras import layers

from zoo import search_spaces, validation
from zoo.models.classifier.common import (IMAGES, check_transformer, classifier_head,
                                          image_example_data, register_classifier,
                                          transformer_stack)
from zoo.registry import Capabilities


@register_classifier(
    "vit_classifier",
    inputs=IMAGES,
    description="Vision Transformer: non-overlapping patches embedded linearly, learned "
                "positions, Transformer encoder blocks, mean pooling, classifier head.",
    citation="Dosovitskiy et al., An Image is Worth 16x16 Words, ICLR 2021.",
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("images",)),
    sizes={"toy": {"image_shape": (8, 8, 1), "patch_size": 4, "embedding_dim": 8,
                   "num_heads": 2, "ff_dim": 12, "num_layers": 1, "num_classes": 3},
           "small": {"patch_size": 4, "embedding_dim": 32, "num_heads": 2, "ff_dim": 64,
                     "num_layers": 2, "dropout": 0.0, "learning_rate": 3e-3}},
    example_data=image_example_data,
)
def vit_classifier(image_shape=(28, 28, 1), patch_size=4, embedding_dim=64, num_heads=4,
                   ff_dim=128, num_layers=4, dropout=0.1, num_classes=10):
    """Vision Transformer classifier.

    Args:
        image_shape: ``(height, width, channels)``; ``patch_size`` must
            divide height and width.
        patch_size: side of the square patches.
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks.
        dropout: dropout in blocks and before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> import zoo
    >>> model = zoo.build("vit_classifier", image_shape=(32, 32, 3), patch_size=8,
    ...                   embedding_dim=16, ff_dim=16, num_layers=1)
    >>> zoo.encoder(model).output_shape
    (None, 16)
    """
    image_shape = validation.image_shape("image_shape", image_shape)
    patch_size = validation.patch_size("patch_size", patch_size, image_shape)
    num_patches = (image_shape[0] // patch_size) * (image_shape[1] // patch_size)
    embedding_dim, num_heads, ff_dim, num_layers, dropout, _ = check_transformer(
        embedding_dim, num_heads, ff_dim, num_layers, dropout, num_patches)
    num_classes = validation.num_classes("num_classes", num_classes)
    images = keras.Input(image_shape, name="images")
    x = layers.Conv2D(embedding_dim, patch_size, strides=patch_size,
                      name="patch_embedding")(images)
    x = layers.Reshape((num_patches, embedding_dim), name="patch_sequence")(x)
    x = transformer_stack(x, None, num_heads, ff_dim, num_layers, dropout, num_patches)
    x = layers.GlobalAveragePooling1D(name="mean_pooling")(x)
    return classifier_head(x, num_classes, dropout, images, "vit_classifier")
