"""Every private Keras API the zoo relies on, in one place.

Keras 3 has no public way to do the few things below. Each function names
the private attribute it reads; written against Keras 3.14-3.15. When a
Keras upgrade moves one of them, this is the only file to change, and
``tests/zoo/test_keras_compat.py`` says which one broke.

>>> import keras
>>> inputs = keras.Input((3,))
>>> outputs = keras.layers.Dense(2)(inputs)
>>> [t is inputs for t in input_tensors_of(outputs)]
[True]
"""

import contextlib


def seed_generators(layer):
    """The ``keras.random.SeedGenerator`` objects a layer owns itself.

    Private: ``Layer._seed_generators`` (Keras tracks them for its own
    ``jax`` stateless calls; it does not save their state).
    """
    return list(getattr(layer, "_seed_generators", ()))


def sublayers(model, include_self=True):
    """Every layer of ``model`` (nested ones too), each once.

    Private: ``Layer._flatten_layers``.
    """
    return list(model._flatten_layers(include_self=include_self))


def own_variables(layer):
    """The variables a layer owns directly (not those of its sublayers), in
    the order Keras saves them.

    Private: ``Layer._trainable_variables`` and ``_non_trainable_variables``.
    """
    return list(layer._trainable_variables) + list(layer._non_trainable_variables)


def check_load_own_variables(layer, store):
    """Raise Keras' own error for a weights store that does not fit ``layer``.

    Private: ``Layer._check_load_own_variables``.
    """
    layer._check_load_own_variables(store)


def input_tensors_of(tensor):
    """The symbolic tensors the operation that produced ``tensor`` consumed.

    Private: ``KerasTensor._keras_history`` and ``Operation._inbound_nodes``.
    Returns ``[tensor]`` for a model input (it has no producing operation).
    """
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    operation, node_index, _ = history
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return [tensor]
    return list(node.input_tensors)


def is_keras_operation_class(cls):
    """A class from Keras' ``keras.src.ops`` modules (the ops a functional
    model's config may name, such as ``Add`` or ``GetItem``).

    Private: ``keras.src.ops.operation.Operation``.
    """
    from keras.src.ops.operation import Operation

    return (isinstance(cls, type) and issubclass(cls, Operation)
            and cls.__module__.startswith("keras.src.ops."))


@contextlib.contextmanager
def deferred_variables():
    """Create variables inside this block without allocating their values.

    Yields a list that, once the block ends, holds the variables created in
    it (shape and dtype known, value not yet computed). The caller then calls
    ``allocate(variables)`` to compute their values or ``discard(variables)``
    to drop them: nothing is allocated before the caller decides, so a model
    that declares 10**11 parameters can be measured and refused.

    Private: ``keras.src.backend.common.stateless_scope.StatelessScope``
    (``initialize_variables=False``) and the global list of uninitialized
    variables that ``keras.src.backend.common.variables`` keeps.
    """
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope, in_stateless_scope

    if in_stateless_scope():
        raise RuntimeError("deferred_variables() cannot be nested in a Keras stateless scope")
    key = "uninitialized_variables"
    before = list(global_state.get_global_attribute(key, [], set_to_default=True))
    global_state.set_global_attribute(key, [])
    created = []
    try:
        with StatelessScope(initialize_variables=False):
            yield created
    finally:
        created.extend(global_state.get_global_attribute(key) or [])
        global_state.set_global_attribute(key, before)


def allocate(variables):
    """Compute the values of variables created under ``deferred_variables``.

    Private: ``Variable._deferred_initialize``.
    """
    for variable in variables:
        if getattr(variable, "_value", None) is None:
            variable._deferred_initialize()


def discard(variables):
    """Forget variables created under ``deferred_variables`` (never allocated)."""
    variables.clear()


KERAS_MODEL_CLASSES = {("keras.src.models.functional", "Functional"),
                       ("keras.src.models.sequential", "Sequential"),
                       ("keras.src.models.model", "Model")}
"""Plain Keras models record these private (module, class) pairs in a config."""

OPS_MODULE_PREFIX = "keras.src.ops."
"""Operations in a functional config record modules under this private prefix."""

BACKEND_OPTIMIZER_MODULE_PATTERN = r"keras\.src\.backend\.\w+\.optimizers\.\w+"
"""The torch backend records its optimizers' private module in a config."""

__all__ = ["deferred_variables", "allocate", "discard", "seed_generators", "sublayers", "own_variables", "check_load_own_variables",
           "input_tensors_of", "is_keras_operation_class", "KERAS_MODEL_CLASSES",
           "OPS_MODULE_PREFIX", "BACKEND_OPTIMIZER_MODULE_PATTERN"]


# ------------------------------------------------- loading a checked .keras file
# ``zoo.load`` runs Keras' own loading steps one by one (as
# ``keras.src.saving.saving_lib._load_model_from_fileobj`` does) so that the
# model can be built under a parameter budget before anything is allocated,
# and so that the bytes Keras loads are the bytes the zoo checked.

def model_from_config(config):
    """Deserialize a parsed ``config.json`` as ``keras.saving.load_model`` does,
    in safe mode whatever the global setting (``enable_unsafe_deserialization``
    would otherwise override ``safe_mode=True``).

    Private: ``keras.src.saving.serialization_lib.ObjectSharingScope`` (shared
    objects of a functional config) and ``SafeModeScope``.
    """
    import keras
    from keras.src.saving.serialization_lib import ObjectSharingScope, SafeModeScope

    with ObjectSharingScope(), SafeModeScope(True):
        return keras.saving.deserialize_keras_object(config, safe_mode=True)


def compile_from_config(model, compile_config):
    """``model.compile_from_config(compile_config)`` in safe mode, as a loaded
    model is compiled (the optimizer's variables are built).

    Private: ``keras.src.saving.serialization_lib.SafeModeScope``.
    """
    from keras.src.saving.serialization_lib import SafeModeScope

    with SafeModeScope(True):
        model.compile_from_config(compile_config)
        model.compiled = True


def load_saved_state(model, archive, weights):
    """Load a ``.keras`` archive's variables (weights, optimizer state) and
    assets into ``model``, as ``keras.saving.load_model`` does.

    Args:
        model: the model deserialized from the archive's config.
        archive: the open ``zipfile.ZipFile`` (assets are read from it).
        weights: the bytes of its ``model.weights.h5``.

    Private: ``keras.src.saving.saving_lib.H5IOStore``, ``DiskIOStore``,
    ``_load_state`` and ``_raise_loading_failure``.
    """
    import io

    from keras.src.saving import saving_lib

    weights_store = saving_lib.H5IOStore(io.BytesIO(weights), mode="r")
    assets_store = None
    try:
        if any(name.startswith("assets/") for name in archive.namelist()):
            assets_store = saving_lib.DiskIOStore("assets", archive=archive, mode="r")
        failed, messages = set(), {}
        saving_lib._load_state(model, weights_store=weights_store, assets_store=assets_store,
                               inner_path="", visited_saveables=set(),
                               failed_saveables=failed, error_msgs=messages)
    finally:
        weights_store.close()
        if assets_store is not None:
            assets_store.close()
    if failed:
        saving_lib._raise_loading_failure(messages)


def resolve_auto_jit_compile(model):
    """What ``jit_compile="auto"`` means for ``model`` on this backend
    (False on torch and on a TensorFlow machine without accelerators).

    Private: ``Trainer._resolve_auto_jit_compile``.
    """
    return model._resolve_auto_jit_compile()


__all__ += ["model_from_config", "compile_from_config", "load_saved_state",
            "resolve_auto_jit_compile"]


# ------------------------------------------------------------------ LoRA (zoo.lora)

def lora_base_variable(layer):
    """The variable LoRA adapts in ``layer`` (the kernel, or an ``Embedding``'s
    table), not the merged value the public ``kernel`` property returns.

    Private: ``Dense/EinsumDense/BaseConv._kernel``, ``Embedding._embeddings``.
    """
    import keras

    if isinstance(layer, keras.layers.Embedding):
        return layer._embeddings
    return layer._kernel


def disable_lora(layer):
    """Drop ``layer``'s LoRA weights and make it a plain layer again (the caller
    has already folded them into the base variable, which becomes trainable).

    Private: deleting the variables attributes runs ``Layer.__delattr__``,
    which untracks them (``Layer._untrack_variable``), and on torch
    ``Layer._track_variables`` re-registers the module's parameters (as
    ``Model._post_quantize`` does after Keras removes variables).
    """
    import keras

    if isinstance(layer, keras.layers.Embedding):
        del layer.lora_embeddings_a
        del layer.lora_embeddings_b
    else:
        del layer.lora_kernel_a
        del layer.lora_kernel_b
    layer.lora_enabled = False
    layer.lora_rank = None
    layer.lora_alpha = None
    lora_base_variable(layer).trainable = True
    if keras.backend.backend() == "torch":
        layer._track_variables()


__all__ += ["lora_base_variable", "disable_lora"]


def symbolic_build_from_first_replica(model, original, iterator=None, data_batch=None):
    """TensorFlow's ``_maybe_symbolic_build`` without turning integer inputs into floats.

    Private: ``TensorFlowTrainer._maybe_symbolic_build``, ``_distribute_strategy``
    and ``_symbolic_build``. Under a ``tf.distribute`` strategy Keras 3.15
    builds the model from the MEAN of the replicas' first batches, which makes
    token and node ids float; the zoo's input checks then refuse them. The
    first replica's part has the dtypes and ranks of the data.
    """
    from zoo import distribution

    strategy = getattr(model, "_distribute_strategy", None)
    if strategy is None or iterator is None:
        return original(iterator=iterator, data_batch=data_batch)
    for _, _, batches in iterator:
        data_batch = distribution.first_replica_batch(strategy, next(batches))
        break
    with strategy.scope():
        model._symbolic_build(data_batch=data_batch)

__all__ += ["symbolic_build_from_first_replica"]
