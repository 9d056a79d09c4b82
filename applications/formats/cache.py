"""Image datasets a user already has in the Keras cache, found without the network.

``keras.datasets.mnist.load_data()`` keeps ``mnist.npz`` in the Keras
datasets folder; ``keras.datasets.fashion_mnist.load_data()`` keeps its four
gzipped IDX files in ``fashion-mnist/`` inside it. ``cached_images`` reads
them where ``keras.utils.get_file`` would have put them, and never downloads.

>>> keras_cache_dir().name
'datasets'
>>> cached_images("cifar10")
Traceback (most recent call last):
...
ValueError: The cached image dataset must be one of 'mnist', 'fashion_mnist'. \
Received: name='cifar10'
"""

import os
import pathlib
import tempfile

from applications.formats.idx import read_idx_pair, read_npz_images
from zoo.untrusted import quoted

#: Dataset name -> where Keras caches it, relative to the datasets folder.
CACHED = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist",
}
#: The files ``keras.datasets.fashion_mnist`` caches, per split: (images, labels).
FASHION_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                 "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def keras_cache_dir():
    """The folder ``keras.utils.get_file`` keeps datasets in, by Keras' own rule.

    The Keras home is ``$KERAS_HOME`` if set, else ``~/.keras``, or
    ``/tmp/.keras`` when the home folder is not writable; if that Keras home
    is not writable (or does not exist), ``get_file`` uses ``/tmp/.keras``
    (the system's temporary folder where there is no ``/tmp``). Datasets are
    in its ``datasets`` folder.

    Returns:
        A ``pathlib.Path``; it may not exist.
    """
    if "KERAS_HOME" in os.environ:
        home = os.environ.get("KERAS_HOME")
    else:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    home = os.path.expanduser(home)
    if not os.access(home, os.W_OK):
        home = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                            ".keras")
    return pathlib.Path(home, "datasets")


def cached_images(name):
    """An image dataset from the Keras cache, or None when the cache does not hold it.

    Args:
        name: "mnist" (``mnist.npz``) or "fashion_mnist" (the four ``.gz``
            files in ``fashion-mnist/``).

    Returns:
        ``{"train": (images, labels), "test": (images, labels)}`` as
        ``read_images`` returns it, or None if a file is missing.

    Raises:
        ValueError: an unknown ``name``.
        DataFormatError: a cached file is corrupt (it is not skipped silently).
    """
    if name not in CACHED:
        raise ValueError(f"The cached image dataset must be one of "
                         f"{', '.join(map(quoted, CACHED))}. Received: name={quoted(name)}")
    location = keras_cache_dir() / CACHED[name]
    if name == "mnist":
        return read_npz_images(location) if location.is_file() else None
    paths = {split: tuple(location / file for file in files)
             for split, files in FASHION_FILES.items()}
    if not all(path.is_file() for pair in paths.values() for path in pair):
        return None
    return {split: read_idx_pair(*pair) for split, pair in paths.items()}
