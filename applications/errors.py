"""Errors of the applications (importable without TensorFlow)."""


class DatasetUnavailableError(RuntimeError):
    """A tensorflow-datasets dataset could not be loaded or downloaded."""
