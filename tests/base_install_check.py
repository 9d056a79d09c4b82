"""The base install at work: ``import zoo`` and one model of every family, without extras.

    KERAS_BACKEND=jax python tests/base_install_check.py

Refuses to import what only the extras install (TensorFlow,
tensorflow-datasets, keras-tuner, matplotlib, scikit-learn, networkx; Keras
itself imports matplotlib and scikit-learn when they are installed, so they
are blocked rather than merely absent), then builds the toy size of one
model per family, fits one step, saves with ``zoo.save``, loads with
``zoo.load`` and checks both give the same outputs. Exits non-zero on any failure,
and if a blocked module was imported all the same. Under the TensorFlow
backend TensorFlow itself is Keras' backend and is allowed.

Used by tests/applications/test_applications_packaging.py and by .ci/run
(in a clean virtual environment holding only ``pip install . jax``).
"""

import importlib.abc
import os
import sys
import tempfile

EXTRAS_ONLY = ("tensorflow", "tensorflow_datasets", "keras_tuner", "matplotlib", "sklearn",
               "networkx")


class Refuse(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` finder that makes ``names`` (and their submodules) unimportable.

    ``importlib.util.find_spec`` lookups are answered as usual unless
    ``lookups`` is set: torch asks about optional modules (networkx, ...)
    while it is imported and expects an answer, not an error.
    """

    def __init__(self, names, lookups=False):
        self.names = tuple(names)
        self.lookups = lookups

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] not in self.names:
            return None
        # Frame 1 is importlib's _find_spec; frame 2 is an import or importlib.util.find_spec.
        if not self.lookups and sys._getframe(2).f_globals.get("__name__") == "importlib.util":
            return None
        raise ModuleNotFoundError(f"No module named {fullname!r} (blocked)", name=fullname)


def blocked_modules():
    """The extras-only modules to refuse under the current ``KERAS_BACKEND``."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return tuple(name for name in EXTRAS_ONLY if not (backend == "tensorflow"
                                                       and name == "tensorflow"))


def main():
    # Run as a script, this folder comes first on sys.path, and its tests/zoo/
    # (test files) would shadow the installed zoo package.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    blocked = blocked_modules()
    sys.meta_path.insert(0, Refuse(blocked))

    import keras
    import numpy as np

    import zoo
    from zoo.constants import FAMILIES

    checked = []
    with tempfile.TemporaryDirectory() as folder:
        for family in FAMILIES:
            name = zoo.list_models(family=family)[0]
            spec = zoo.get_spec(name)
            model = zoo.build(name, size="toy")
            params = zoo.model_params(model)
            x, y = spec.example_data(params, 4, 0)
            model.fit(x, y, batch_size=4, epochs=1, verbose=0)
            path = os.path.join(folder, f"{name}.keras")
            zoo.save(model, path)
            loaded = zoo.load(path)
            # A direct call, not predict(): no compilation of a predict function.
            before = keras.tree.flatten(model(x, training=False))
            after = keras.tree.flatten(loaded(x, training=False))
            for a, b in zip(before, after):
                np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b),
                                           rtol=1e-5, atol=1e-5)
            checked.append(name)
    imported = sorted(name for name in blocked if name in sys.modules)
    if imported:
        print(f"base install check: imported what only extras install: {imported}",
              file=sys.stderr)
        return 1
    print(f"base install check ({keras.backend.backend()}): built, fitted, saved, loaded "
          f"and called {', '.join(checked)}; none of {', '.join(blocked)} imported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
