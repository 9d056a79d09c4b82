"""Classifier family (transitional: re-exports the old module until it moves here)."""

from zoo.classifiers import *  # noqa: F401,F403
