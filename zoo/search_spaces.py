"""Search spaces shared by several families (functions of a keras-tuner ``hp``).

Each returns overrides for ``zoo.build``. The tuner issue lets users narrow
or fix any of these names.
"""


def recurrent(hp, width="units", max_width=256):
    """Embedding width, recurrent width (named ``width``), depth, dropout, lr."""
    return {
        "embedding_dim": hp.Int("embedding_dim", 16, 256, sampling="log"),
        width: hp.Int(width, 16 if max_width <= 256 else 32, max_width, sampling="log"),
        "num_layers": hp.Int("num_layers", 1, 3),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
        "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
    }


def transformer(hp, max_layers=4):
    """Width, heads, feed-forward width, depth, dropout, lr.

    Heads that do not divide the width are possible on purpose: the builder
    refuses them and the tuner records a failed trial.
    """
    return {
        "embedding_dim": hp.Choice("embedding_dim", [64, 32, 128, 256]),
        "num_heads": hp.Choice("num_heads", [4, 1, 2, 8]),
        "ff_dim": hp.Int("ff_dim", 32, 512, sampling="log"),
        "num_layers": hp.Int("num_layers", 1, max_layers),
        "dropout": hp.Float("dropout", 0.0, 0.3, step=0.1),
        "learning_rate": hp.Float("learning_rate", 1e-4, 3e-3, sampling="log"),
    }
