"""keras-tuner searches over the zoo's registry.

>>> import tuner
>>> x = np.random.default_rng(0).random((64, 6)).astype("float32")
>>> result = tuner.search("dense_autoencoder", (x[:48], x[:48]), (x[48:], x[48:]),
...                       overrides={"input_dim": 6}, max_trials=2, epochs=1,
...                       directory="tuner_runs", project_name="ae", verbose=0)
>>> len(result.trials), result.best_model_path.endswith("best_model.keras")
(2, True)

Names are imported on first use, so ``python -m tuner --backend jax ...`` can
choose the Keras backend before Keras is imported.
"""

import importlib

#: The search algorithms ``tuner.search`` and ``zoo tune --algorithm`` offer.
ALGORITHMS = ("random", "bayesian", "hyperband", "grid")

_EXPORTS = {
    "FailOnNonFinite": "tuner.hypermodel",
    "NonFiniteLossError": "tuner.hypermodel",
    "ZooHyperModel": "tuner.hypermodel",
    "default_space": "tuner.hypermodel",
    "BayesianOracle": "tuner.searcher",
    "GridOracle": "tuner.searcher",
    "HyperbandOracle": "tuner.searcher",
    "RandomOracle": "tuner.searcher",
    "SearchFailedError": "tuner.errors",
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
