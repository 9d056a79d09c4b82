"""Decoder-only family (transitional: re-exports the old module until it moves here)."""

from zoo.decoders import *  # noqa: F401,F403
