"""The model class every zoo builder returns, and ``encoder()``.

A ``ZooModel`` is a plain Keras functional model that also remembers which
registry entry built it and with which parameters (``zoo_name``,
``zoo_config``). Both travel inside ``.keras`` files, so a loaded model still
knows how to decode, which tokens are special, and how to rebuild itself.

Code tensors are found by name: every builder routes its code (the
bottleneck of an autoencoder, the context states of a seq2seq encoder, the
pooled embedding of a classifier) through layers named ``code`` or
``code_<part>``. ``encoder(model)`` returns the sub-model from the inputs
those tensors depend on to the tensors themselves.
"""

import keras

from zoo import keras_compat
from zoo.jsonable import to_jsonable

CODE_LAYER_NAME = "code"
SEED_STATE_PREFIX = "seed_state_"


@keras.saving.register_keras_serializable(package="zoo")
class ZooModel(keras.Model):
    """A functional `keras.Model` that records its registry name and config.

    Args:
        inputs, outputs: as for a functional `keras.Model`.
        zoo_name: registry name of the builder that made the model.
        zoo_config: the full parameter dict the builder was called with.

    Example:

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> model.zoo_name
    'dense_autoencoder_toy'
    """

    # *args/**kwargs keep Keras' functional (de)serialization path.
    def __init__(self, *args, zoo_name=None, zoo_config=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zoo_name = zoo_name
        self.zoo_config = dict(zoo_config or {})

    # Keras saves weights and optimizer state but not the state of random
    # seed generators (dropout, noise, VAE sampling), so a reloaded model
    # would draw different noise than the run it came from. The model saves
    # every generator's state with its own variables, so training resumes
    # exactly where it stopped.
    def _seed_states(self):
        states, seen = [], set()
        for layer in keras_compat.sublayers(self):
            for generator in keras_compat.seed_generators(layer):
                if id(generator.state) not in seen:
                    seen.add(id(generator.state))
                    states.append(generator.state)
        return states

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, state in enumerate(self._seed_states()):
            store[f"{SEED_STATE_PREFIX}{i}"] = state

    def load_own_variables(self, store):
        saved_seeds = [key for key in store.keys() if key.startswith(SEED_STATE_PREFIX)]
        own = keras_compat.own_variables(self)
        if len(store.keys()) - len(saved_seeds) != len(own):
            keras_compat.check_load_own_variables(self, store)  # raises Keras' own message
        for i, variable in enumerate(own):
            variable.assign(store[f"{i}"])
        states = self._seed_states()
        if saved_seeds and len(saved_seeds) != len(states):
            raise ValueError(f"The file holds {len(saved_seeds)} random-seed states but model "
                             f"{self.name!r} has {len(states)} seed generators.")
        for i, state in enumerate(states[:len(saved_seeds)]):
            state.assign(store[f"{SEED_STATE_PREFIX}{i}"])

    def get_config(self):
        config = super().get_config()
        config["zoo_name"] = self.zoo_name
        config["zoo_config"] = to_jsonable(self.zoo_config)
        return config


def code_layers(model):
    """The layers of ``model`` that carry its code, in graph order."""
    return [
        layer
        for layer in model.layers
        if layer.name == CODE_LAYER_NAME or layer.name.startswith(CODE_LAYER_NAME + "_")
    ]


def _ancestor_inputs(model, tensors):
    """Which of ``model.inputs`` the given symbolic tensors depend on."""
    wanted = {id(tensor): tensor for tensor in model.inputs}
    found, seen, stack = {}, set(), list(tensors)
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if id(tensor) in wanted:
            found[id(tensor)] = tensor
            continue
        stack.extend(t for t in keras_compat.input_tensors_of(tensor) if t is not tensor)
    # Keep the model's own input order.
    return [tensor for tensor in model.inputs if id(tensor) in found]


def sub_model(model, outputs, name):
    """A functional model from the inputs ``outputs`` depend on to ``outputs``."""
    flat = list(outputs.values()) if isinstance(outputs, dict) else [outputs]
    inputs = _ancestor_inputs(model, flat)
    if len(inputs) == 1:
        inputs = inputs[0]
    else:
        inputs = {tensor.name: tensor for tensor in inputs}
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def encoder(model):
    """The sub-model from ``model``'s inputs to its code / context / embedding.

    Weights are shared with ``model``: training one trains the other. A model
    whose code has several parts (an LSTM encoder's ``h`` and ``c`` states,
    per layer) gets a dict output keyed by layer name, in graph order.

    Raises:
        ValueError: ``model`` has no layer named ``code`` or ``code_*``.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")
    layers = code_layers(model)
    if not layers:
        raise ValueError(
            "`model` has no code layer (a layer named 'code' or 'code_*'), so "
            "its encoder cannot be located; build it with zoo.build(). "
            f"Received: model={model.name!r}"
        )
    if len(layers) == 1:
        outputs = layers[0].output
    else:
        outputs = {layer.name: layer.output for layer in layers}
    return sub_model(model, outputs, name=f"{model.name}_encoder")
