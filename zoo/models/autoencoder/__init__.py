"""Autoencoder family (transitional: re-exports the old module until it moves here)."""

from zoo.autoencoders import *  # noqa: F401,F403
from zoo.reconstruction import decoder, reconstruction_error, sample  # noqa: F401
from zoo.variational import VariationalAutoencoder  # noqa: F401
