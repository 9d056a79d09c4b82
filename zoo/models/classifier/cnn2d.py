"""The 2D convolutional image classifier."""

import keras
from keras import layers

from zoo import validation
from zoo.models.classifier.common import (IMAGES, classifier_head, conv_search_space,
                                          image_example_data, register_classifier)
from zoo.registry import Capabilities


@register_classifier(
    "cnn2d_classifier",
    inputs=IMAGES,
    description="2D convolutional image classifier: conv + max-pool stages, global "
                "average pooling, classifier head.",
    citation="LeCun et al., Gradient-Based Learning Applied to Document Recognition, 1998.",
    search_space=conv_search_space,
    capabilities=Capabilities(input_kinds=("images",)),
    sizes={"toy": {"image_shape": (8, 8, 1), "filters": (4, 6), "num_classes": 3},
           "small": {"filters": (16, 32), "kernel_size": 3, "dropout": 0.0,
                     "learning_rate": 3e-3}},
    example_data=image_example_data,
)
def cnn2d_classifier(image_shape=(28, 28, 1), filters=(32, 64), kernel_size=3,
                     activation="relu", dropout=0.0, num_classes=10):
    """2D CNN classifier.

    Args:
        image_shape: ``(height, width, channels)``.
        filters: filters of each conv stage (each halves the resolution).
        kernel_size: convolution window.
        activation: convolution activation.
        dropout: dropout before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> import zoo
    >>> model = zoo.build("cnn2d_classifier", image_shape=(32, 32, 3), filters=(8,),
    ...                   num_classes=10)
    >>> model.output_shape
    (None, 10)
    """
    image_shape = validation.image_shape("image_shape", image_shape)
    filters = validation.positive_int_tuple("filters", filters)
    kernel_size = validation.positive_int("kernel_size", kernel_size)
    activation = validation.activation("activation", activation)
    dropout = validation.rate("dropout", dropout)
    num_classes = validation.num_classes("num_classes", num_classes)
    validation.pooling_stages("filters", filters, image_shape)
    images = keras.Input(image_shape, name="images")
    x = images
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, kernel_size, padding="same", activation=activation,
                          name=f"conv_{i}")(x)
        x = layers.MaxPooling2D(name=f"pool_{i}")(x)
    x = layers.GlobalAveragePooling2D(name="mean_pooling")(x)
    return classifier_head(x, num_classes, dropout, images, "cnn2d_classifier")
