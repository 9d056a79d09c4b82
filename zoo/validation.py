"""Argument checks shared by every builder.

Each check returns the (normalised) value or raises a ``ValueError`` whose
message ends with what was received, e.g. ``Received: code_size=-3``.
"""

import math
import numbers

import keras


def _received(name, value):
    return f"Received: {name}={value!r}"


def positive_int(name, value):
    """An integer >= 1 (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. {_received(name, value)}")
    return int(value)


def non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be an integer >= 0. {_received(name, value)}")
    return int(value)


def positive_int_tuple(name, value):
    """A (possibly empty) sequence of positive integers, returned as a tuple."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(
            f"`{name}` must be a list of positive integers. {_received(name, value)}"
        )
    items = tuple(value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < 1:
            raise ValueError(
                f"`{name}` must be a list of positive integers. {_received(name, value)}"
            )
    return tuple(int(item) for item in items)


def _is_finite_real(value):
    return (not isinstance(value, bool) and isinstance(value, numbers.Real)
            and math.isfinite(value))


def finite_float(name, value):
    """Any finite real number (bools, NaN and infinities are refused)."""
    if not _is_finite_real(value):
        raise ValueError(f"`{name}` must be a finite number. {_received(name, value)}")
    return float(value)


def positive_float(name, value):
    """A finite real number > 0 (a learning rate, a scale, a temperature);
    bools, NaN and infinities are refused.

    >>> positive_float("learning_rate", float("inf"))
    Traceback (most recent call last):
    ...
    ValueError: `learning_rate` must be a finite number > 0. Received: learning_rate=inf
    """
    if not _is_finite_real(value) or not value > 0:
        raise ValueError(f"`{name}` must be a finite number > 0. {_received(name, value)}")
    return float(value)


finite_positive_float = positive_float


def rate(name, value):
    """A dropout-style rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1). {_received(name, value)}")
    return float(value)


def choice(name, value, allowed):
    if value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"`{name}` must be one of {options}. {_received(name, value)}")
    return value


def activation(name, value):
    """A Keras activation name (or None for linear)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(
            f"`{name}` must be the name of a Keras activation or None. {_received(name, value)}"
        )
    try:
        keras.activations.get(value)
    except ValueError:
        raise ValueError(
            f"`{name}` must be the name of a Keras activation such as 'relu', "
            f"'gelu', 'tanh', 'sigmoid' or 'linear'. {_received(name, value)}"
        ) from None
    return value


def jit_compile(name, value):
    if value not in ("auto", True, False):
        raise ValueError(f"`{name}` must be 'auto', True or False. {_received(name, value)}")
    return value


def non_negative_float(name, value):
    """A finite real number >= 0 (bools, NaN and infinities are refused)."""
    if not _is_finite_real(value) or not value >= 0:
        raise ValueError(f"`{name}` must be a finite number >= 0. {_received(name, value)}")
    return float(value)


def boolean(name, value):
    """``True`` or ``False`` exactly (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. {_received(name, value)}")
    return value


def num_classes(name, value):
    """A class count: an integer >= 2 (two classes get one sigmoid unit or a softmax)."""
    value = positive_int(name, value)
    if value < 2:
        raise ValueError(f"`{name}` must be at least 2. {_received(name, value)}")
    return value


def odd_int(name, value):
    """A positive odd integer (a kernel whose 'same' padding is symmetric)."""
    value = positive_int(name, value)
    if value % 2 == 0:
        raise ValueError(f"`{name}` must be odd so 'same' padding is symmetric. "
                         f"{_received(name, value)}")
    return value


def image_shape(name, value):
    """``(height, width, channels)`` of positive integers."""
    shape = positive_int_tuple(name, value)
    if len(shape) != 3:
        raise ValueError(f"`{name}` must be (height, width, channels). {_received(name, value)}")
    return shape


def heads(name, value, width, width_name="embedding_dim"):
    """A positive number of attention heads that divides the model width."""
    value = positive_int(name, value)
    if width % value:
        raise ValueError(f"`{name}` must divide {width_name}={width}. {_received(name, value)}")
    return value


def non_empty(name, value, what="at least one item"):
    """A sequence that is not empty (checked after its items)."""
    if len(value) == 0:
        raise ValueError(f"`{name}` needs {what}. {_received(name, value)}")
    return value


NOISE_KINDS = ("gaussian", "masking")


def noise(kind_name, kind, level_name, level):
    """A noise kind (``gaussian`` or ``masking``) and its level, checked together.

    Returns the level: a standard deviation > 0 (gaussian) or a fraction in
    (0, 1) of values to zero (masking).
    """
    choice(kind_name, kind, NOISE_KINDS)
    if kind == "gaussian":
        return positive_float(level_name, level)
    level = rate(level_name, level)
    if level == 0:
        raise ValueError(f"`{level_name}` must be a number in (0, 1) for masking noise. "
                         f"{_received(level_name, level)}")
    return level


def seed(name, value):
    """``None`` (drawn from Keras' global seed) or an integer >= 0."""
    return None if value is None else non_negative_int(name, value)


def sigmoid_for_bce(loss_name, loss, activation_name, activation):
    """Binary cross-entropy needs outputs in [0, 1]: ``activation`` must then be ``sigmoid``."""
    if loss == "bce" and activation != "sigmoid":
        raise ValueError(f"{loss_name}='bce' needs outputs in [0, 1]: use "
                         f"{activation_name}='sigmoid'. {_received(activation_name, activation)}")
    return activation


def halvable_image(name, shape, stages_name, stages):
    """An image shape whose height and width ``len(stages)`` stride-2 stages halve exactly."""
    scale = 2 ** len(stages)
    if shape[0] % scale or shape[1] % scale:
        raise ValueError(f"Height and width must be divisible by 2**len({stages_name}) = "
                         f"{scale} (each convolution halves them). {_received(name, shape)}")
    return shape


def pooling_stages(name, stages, shape):
    """Pooling stages (each halves height and width) that leave at least one pixel."""
    if 2 ** len(stages) > min(shape[:2]):
        raise ValueError(f"{len(stages)} pooling stages halve {tuple(shape[:2])} below one "
                         f"pixel. {_received(name, stages)}")
    return stages


def patch_size(name, value, shape):
    """A positive patch side that divides an image's height and width."""
    value = positive_int(name, value)
    if shape[0] % value or shape[1] % value:
        raise ValueError(f"`{name}` must divide the image size {tuple(shape[:2])}. "
                         f"{_received(name, value)}")
    return value


def positive_ints(**values):
    """Several positive integers at once, in the order given.

    >>> positive_ints(units=4, num_layers=2)
    (4, 2)
    """
    return tuple(positive_int(name, value) for name, value in values.items())


def special_tokens(vocab_size, start_token, end_token):
    """Start and end token ids: distinct, >= 1 (0 is padding) and below ``vocab_size``."""
    for name, value in (("start_token", start_token), ("end_token", end_token)):
        positive_int(name, value)
        if value >= vocab_size:
            raise ValueError(f"`{name}` must be below target_vocab_size={vocab_size} "
                             f"(id 0 is padding). {_received(name, value)}")
    if start_token == end_token:
        raise ValueError("`start_token` and `end_token` must differ. "
                         f"Received: start_token={start_token}, end_token={end_token}")
    return start_token, end_token
