"""keras-tuner searches over the zoo's registry.

>>> import tuner
>>> result = tuner.search("dense_autoencoder", (x, x), (x_val, x_val),
...                       overrides={"input_dim": 64}, max_trials=5, epochs=3)
>>> result.best_hyperparameters, result.best_model_path
>>> print(result.table())

Names are imported on first use, so ``python -m tuner --backend jax ...`` can
choose the Keras backend before Keras is imported.
"""

import importlib

#: The search algorithms ``tuner.search`` and ``zoo tune --algorithm`` offer.
ALGORITHMS = ("random", "bayesian", "hyperband")

_EXPORTS = {
    "FailOnNonFinite": "tuner.hypermodel",
    "NonFiniteLossError": "tuner.hypermodel",
    "ZooHyperModel": "tuner.hypermodel",
    "default_space": "tuner.hypermodel",
    "BayesianOracle": "tuner.searcher",
    "HyperbandOracle": "tuner.searcher",
    "RandomOracle": "tuner.searcher",
    "SearchResult": "tuner.searcher",
    "ZooTuner": "tuner.searcher",
    "search": "tuner.searcher",
}

__all__ = sorted([*_EXPORTS, "ALGORITHMS"])


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tuner' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
