"""Custom serializable layers, one module per kind.

Every layer here is registered with
``keras.saving.register_keras_serializable(package="zoo")``, keeps one
attribute per constructor argument and returns all of them from
``get_config``. Stochastic layers own a ``keras.random.SeedGenerator``.
Import layers from their module, e.g. ``from zoo.layers.masking import ...``.
"""
