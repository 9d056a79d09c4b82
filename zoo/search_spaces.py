"""Search-space helpers every family's search space is made of (functions of a keras-tuner ``hp``).

Each helper declares one kind of hyperparameter once, with one name and one
range, so the same name means the same thing in every model's space; a
family's ``search_space`` combines them. The tuner lets users narrow or fix
any of these names (``tuner.search(..., hyperparameters=...)``).

Learning-rate ranges are declared here, once per optimisation regime:

- ``"default"``: recurrent, convolutional and dense models, 1e-4 to 1e-2;
- ``"transformer"``: attention models (they diverge above ~3e-3), 1e-4 to 3e-3;
- ``"graph"``: full-batch graph models (few steps per epoch), 1e-3 to 3e-2.

>>> import keras_tuner
>>> hp = keras_tuner.HyperParameters()
>>> space = {"learning_rate": learning_rate(hp), **widths(hp, "filters", 2, 8, 64)}
>>> sorted(space)
['filters', 'learning_rate']
"""

LEARNING_RATES = {
    "default": (1e-4, 1e-2),
    "transformer": (1e-4, 3e-3),
    "graph": (1e-3, 3e-2),
}


def learning_rate(hp, regime="default"):
    """The Adam learning rate, log-uniform over ``LEARNING_RATES[regime]``."""
    if regime not in LEARNING_RATES:
        raise ValueError(f"`regime` must be one of {', '.join(map(repr, LEARNING_RATES))}. "
                         f"Received: regime={regime!r}")
    low, high = LEARNING_RATES[regime]
    return hp.Float("learning_rate", low, high, sampling="log")


def dropout(hp, high=0.5, name="dropout"):
    """A dropout rate named ``name`` in ``[0, high]`` in steps of 0.1."""
    return hp.Float(name, 0.0, high, step=0.1)


def depth(hp, name="num_layers", low=1, high=3):
    """How many layers (or stages) a model stacks."""
    return hp.Int(name, low, high)


def width(hp, name, low, high):
    """One width (units, filters, code size), log-uniform in ``[low, high]``."""
    return hp.Int(name, low, high, sampling="log")


def widths(hp, name, max_depth, low, high, min_depth=1):
    """A tuple of widths: ``{name: (w_0, ..., w_{d-1})}`` for a searched depth ``d``.

    The depth is searched as ``depth`` and each width as ``<name>_<i>``
    (e.g. ``filters_0``), so a conditional width only matters when the
    depth reaches it.
    """
    count = hp.Int("depth", min_depth, max_depth)
    return {name: tuple(width(hp, f"{name}_{i}", low, high) for i in range(count))}


def recurrent(hp, width_name="units", max_width=256):
    """Embedding width, recurrent width (named ``width_name``), depth, dropout, lr."""
    return {
        "embedding_dim": width(hp, "embedding_dim", 16, 256),
        width_name: width(hp, width_name, 16 if max_width <= 256 else 32, max_width),
        "num_layers": depth(hp),
        "dropout": dropout(hp),
        "learning_rate": learning_rate(hp),
    }


def transformer(hp, max_layers=4):
    """Width, heads, feed-forward width, depth, dropout, lr.

    Heads that do not divide the width are possible on purpose: the builder
    refuses them and the tuner records a failed trial.
    """
    return {
        "embedding_dim": hp.Choice("embedding_dim", [64, 32, 128, 256]),
        "num_heads": hp.Choice("num_heads", [4, 1, 2, 8]),
        "ff_dim": width(hp, "ff_dim", 32, 512),
        "num_layers": depth(hp, high=max_layers),
        "dropout": dropout(hp, high=0.3),
        "learning_rate": learning_rate(hp, "transformer"),
    }
