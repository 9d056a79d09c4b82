"""Seq2seq family (transitional: re-exports the old module until it moves here)."""

from zoo.seq2seq import *  # noqa: F401,F403
