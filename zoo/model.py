"""The model class every zoo builder returns, ``encoder()``, and the checks of
the data a model is given.

A ``ZooModel`` is a plain Keras functional model that also remembers which
registry entry built it and with which parameters (``zoo_name``,
``zoo_config``). Both travel inside ``.keras`` files, so a loaded model still
knows how to decode, which tokens are special, and how to rebuild itself.

Code tensors are found by name: every builder routes its code (the
bottleneck of an autoencoder, the context states of a seq2seq encoder, the
pooled embedding of a classifier) through layers named ``code`` or
``code_<part>``. ``encoder(model)`` returns the sub-model from the inputs
those tensors depend on to the tensors themselves.

Data is checked at the edge of the model (``ZooModel.check_data``): an id
past the vocabulary gives NaN on JAX and wraps around or fails deep in a
gather elsewhere, a float id is truncated, a node id out of range is
dropped by the segment sums, and a label no loss can mean trains silently.
The ranges are declared once, by ``ZooModel.input_ranges`` and
``ZooModel.target_ranges`` (derived from the model's own layers and loss).
"""

import contextlib
import dataclasses
import inspect
import numbers
import re
import sys

import keras
import numpy as np
from keras import ops

from zoo import keras_compat
from zoo.jsonable import to_jsonable
from zoo.losses import MaskedSparseCrossentropy
from zoo.untrusted import printable, quoted

CODE_LAYER_NAME = "code"
SEED_STATE_PREFIX = "seed_state_"


# --- the values an input or a target may hold ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ValueRange:
    """The values one integer input (or one target) of a model may hold.

    Ids and class labels (``integral=True``) are whole numbers in
    ``[low, high)``: an integer array, or a float array whose values are
    all whole numbers (``2.0`` is the id 2; ``1.7`` is refused instead of
    being truncated to 1). Other targets (``integral=False``, e.g. the
    probabilities of binary cross-entropy) are real numbers in the closed
    interval ``[low, high]``. NaN is never in range.

    Args:
        low: the smallest value allowed (``None``: no lower bound).
        high: the bound above (``None``: none, or see ``size_of``).
        size_of: ``(input name, axis)``: ``high`` is that input's size on
            that axis in the same batch (node ids are below the number of
            nodes, ``node_features.shape[1]``).
        what: what the values are, for messages (``"token ids"``).
        why: what sets the bound, for messages; with ``size_of``, the
            name of that size (``"num_nodes"``).
        integral: ids or class labels (see above).

    >>> ValueRange(0, 20, what="token ids").interval()
    '[0, 20)'
    """

    low: int | float | None = None
    high: int | float | None = None
    size_of: tuple | None = None
    what: str = "values"
    why: str = ""
    integral: bool = True

    def interval(self, high=None):
        high = self.high if high is None else high
        low = "-inf" if self.low is None else self.low
        if high is None:
            return f"[{low}, inf)"
        return f"[{low}, {high})" if self.integral else f"[{low}, {high}]"

    def explanation(self, high=None):
        if self.size_of is not None:
            return f"{self.why}={high}"
        return self.why

    def bounded(self):
        return self.low is not None or self.high is not None or self.size_of is not None


def _format(value):
    """A value for a message: integers as integers, floats as short as their dtype allows."""
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return str(int(value))
    text = str(value) if isinstance(value, np.floating) else repr(float(value))
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else text


def _out_of_range_message(name, value_range, high, value):
    why = value_range.explanation(high)
    return (f"`{name}` holds {value_range.what} outside {value_range.interval(high)}"
            f"{f' ({why})' if why else ''}. Received: {name}={value}")


def _fractional_message(name, value_range, value):
    return (f"`{name}` must hold whole numbers ({value_range.what}): a fractional value would "
            f"be truncated. Received: {name}={value}")


def _dtype_message(name, value_range, dtype):
    return (f"`{name}` must be a numeric array of {value_range.what}. "
            f"Received: {name}.dtype={str(dtype)!r}")


def _kind(dtype):
    """``"int"``, ``"float"``, ``"bool"`` or ``None`` (not numeric) for any dtype."""
    try:
        dtype = keras.backend.standardize_dtype(dtype)
    except (ValueError, TypeError, AttributeError):
        return None
    if dtype == "bool":
        return "bool"
    if "int" in dtype:
        return "int"
    if "float" in dtype:
        return "float"
    return None


def _resolve_high(value_range, named):
    """The upper bound of ``value_range`` in the batch ``named`` (None: unknown)."""
    if value_range.size_of is None:
        return value_range.high
    source, axis = value_range.size_of
    reference = named.get(source)
    shape = getattr(reference, "shape", None)
    if shape is None or len(shape) <= axis or shape[axis] is None:
        return None
    return int(shape[axis])


def check_values(name, values, value_range, high=None):
    """Raise ``ValueError`` unless the NumPy array ``values`` fits ``value_range``.

    ``high`` replaces ``value_range.high`` (a bound taken from the batch).
    The message names the input, the range and an offending value.

    >>> check_values("tokens", np.array([[3, 25]]), ValueRange(0, 20, what="token ids"))
    Traceback (most recent call last):
    ...
    ValueError: `tokens` holds token ids outside [0, 20). Received: tokens=25
    """
    high = value_range.high if high is None else high
    kind = _kind(values.dtype)
    if kind is None:
        raise ValueError(_dtype_message(name, value_range, values.dtype))
    if values.size == 0:
        return
    flat = values.reshape(-1)
    if kind == "float":
        if value_range.integral:
            bad = ~np.isfinite(flat) | (flat != np.round(flat))
            if bad.any():
                raise ValueError(_fractional_message(name, value_range,
                                                     _format(flat[np.argmax(bad)])))
        elif np.isnan(flat).any():
            raise ValueError(_out_of_range_message(name, value_range, high, "nan"))
    if not value_range.bounded():
        return
    lowest, highest = flat.min(), flat.max()
    if value_range.low is not None and lowest < value_range.low:
        raise ValueError(_out_of_range_message(name, value_range, high, _format(lowest)))
    if high is not None and (highest >= high if value_range.integral else highest > high):
        raise ValueError(_out_of_range_message(name, value_range, high, _format(highest)))


def check_tensor(name, tensor, value_range, high=None):
    """``check_values`` for a tensor of the running backend, without copying it.

    A min/max reduction on the tensor's device (for float ids also the
    value farthest from a whole number, for float targets whether any is
    NaN); one small array of those scalars comes back to the host.
    """
    high = value_range.high if high is None else high
    kind = _kind(tensor.dtype)
    if kind is None:
        raise ValueError(_dtype_message(name, value_range, tensor.dtype))
    if kind == "bool":
        tensor, kind = ops.cast(tensor, "int32"), "int"
    size = int(np.prod(ops.shape(tensor)))
    if size == 0 or (kind == "int" and not value_range.bounded()):
        return
    flat = ops.reshape(tensor, (-1,))
    stats = [ops.min(flat), ops.max(flat)]
    if kind == "float" and value_range.integral:
        distance = ops.abs(flat - ops.round(flat))  # NaN for NaN and +-inf
        distance = ops.where(ops.isnan(distance), float("inf"), distance)
        stats.append(ops.take(flat, ops.argmax(distance)))
    elif kind == "float":
        stats.append(ops.cast(ops.any(ops.isnan(flat)), flat.dtype))
    stats = ops.convert_to_numpy(ops.stack(stats))
    lowest, highest = stats[0], stats[1]
    if kind == "float" and value_range.integral:
        worst = stats[2]
        if not (np.isfinite(worst) and float(worst).is_integer()):
            raise ValueError(_fractional_message(name, value_range, _format(worst)))
    elif kind == "float" and stats[2]:
        raise ValueError(_out_of_range_message(name, value_range, high, "nan"))
    if value_range.low is not None and lowest < value_range.low:
        raise ValueError(_out_of_range_message(name, value_range, high, _format(lowest)))
    if high is not None and (highest >= high if value_range.integral else highest > high):
        raise ValueError(_out_of_range_message(name, value_range, high, _format(highest)))


# --- tf.data: checked while the elements are consumed ----------------------------------------

_MARK_OPEN, _MARK_CLOSE = "<<zoo-data-check:", ":zoo-data-check>>"
_PLACEHOLDER = "\x00"
_MARKED = re.compile(re.escape(_MARK_OPEN) + r"(.*?)" + re.escape(_MARK_CLOSE)
                     + r"\]\s*\[(.*?)\]", re.DOTALL)
_DATA_SEPARATOR = re.compile(r"\]\s*\[")  # between the items an Assert prints


def _tensorflow_for(value):
    """TensorFlow, when ``value`` is a ``tf.data.Dataset`` (TF is then already imported)."""
    tf = sys.modules.get("tensorflow")
    data = getattr(tf, "data", None) if tf is not None else None
    if data is not None and isinstance(value, data.Dataset):
        return tf
    return None


def _dataset_assertions(tf, named, ranges):
    """One ``tf.debugging.Assert`` per declared range, on one dataset element.

    A min/max reduction per field (for float ids also the distance to the
    nearest whole number); the message names the extreme value that is out
    of range, as the host check does.
    """
    assertions = []
    for name, (display, value_range) in ranges.items():
        tensor = named.get(name)
        if tensor is None or not hasattr(tensor, "dtype"):
            continue
        kind = _kind(tensor.dtype)
        if kind is None:
            raise ValueError(_dtype_message(display, value_range, tensor.dtype))
        if kind == "bool":
            tensor, kind = tf.cast(tensor, "int32"), "int"
        if kind == "int" and not value_range.bounded():
            continue
        flat = tf.reshape(tensor, [-1])
        if kind == "float" and value_range.integral:
            distance = tf.abs(flat - tf.round(flat))
            distance = tf.where(tf.math.is_nan(distance), float("inf"), distance)
            whole = tf.logical_not(tf.reduce_any(distance > 0))
            worst = tf.cond(whole, lambda: tf.zeros([], flat.dtype),
                            lambda: tf.gather(flat, tf.argmax(distance)))
            assertions.append(tf.debugging.Assert(whole, [
                _MARK_OPEN + _fractional_message(display, value_range, "") + _MARK_CLOSE,
                worst], summarize=1))
        high, text = value_range.high, [_out_of_range_message(display, value_range,
                                                              value_range.high, "")]
        if value_range.size_of is not None:
            source, axis = value_range.size_of
            if source not in named:
                continue
            size = tf.shape(named[source])[axis]
            high = tf.cast(size, flat.dtype)
            # The bound is known only with the element: it goes in between the pieces.
            pieces = _out_of_range_message(display, value_range, _PLACEHOLDER, "")
            pieces = pieces.split(_PLACEHOLDER)
            text = [pieces[0]]
            for piece in pieces[1:]:
                text += [size, piece]
        lowest, highest = tf.reduce_min(flat), tf.reduce_max(flat)
        checks, worst = [], highest
        if value_range.low is not None:
            checks.append(lowest >= value_range.low)
            worst = tf.where(lowest < value_range.low, lowest, highest)
        if high is not None:
            checks.append(highest < high if value_range.integral else highest <= high)
        if kind == "float" and not value_range.integral:
            has_nan = tf.reduce_any(tf.math.is_nan(flat))
            checks.append(tf.logical_not(has_nan))
            worst = tf.where(has_nan, tf.constant(float("nan"), flat.dtype), worst)
        if not checks:
            continue
        text[0] = _MARK_OPEN + text[0]
        text[-1] = text[-1] + _MARK_CLOSE
        assertions.append(tf.debugging.Assert(tf.reduce_all(tf.stack(checks)),
                                              text + [worst], summarize=1))
    return assertions


def _state_values(model):
    """``(variable, value)`` for every variable the JAX trainer may purge during a call."""
    optimizer = getattr(model, "optimizer", None)
    variables = (list(model.trainable_variables) + list(model.non_trainable_variables)
                 + list(getattr(optimizer, "variables", None) or [])
                 + list(model.metrics_variables))
    pairs, seen = [], set()
    for variable in variables:
        if id(variable) not in seen:
            seen.add(id(variable))
            pairs.append((variable, variable.value))
    return pairs


def _restore_state(model, saved):
    """Give back the values the JAX trainer took from the variables of a failed call.

    The JAX trainer holds the model's state outside its variables while it
    runs (it sets them to nothing to save memory) and attaches it back at
    the end; a dataset check failing mid-call would leave a model without
    weights. What a finished step computed comes back with
    ``jax_state_sync``; a variable still empty gets the value it had before
    the call (references only: buffers that a step donated are gone, and
    then the step's own state is what came back).
    """
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()
    for variable, value in saved:
        try:
            variable.value
        except TypeError:  # emptied by the trainer and not given back
            variable.assign(value)


@contextlib.contextmanager
def _dataset_errors(model, active):
    """A failed dataset check becomes the ``ValueError`` it describes."""
    saved = _state_values(model) if active and keras.backend.backend() == "jax" else None
    try:
        yield
    except Exception as error:
        tf = sys.modules.get("tensorflow") if active else None
        match = _MARKED.search(str(error)) if tf is not None else None
        if match is None or not isinstance(error, tf.errors.OpError):
            raise
        if saved is not None:
            _restore_state(model, saved)
        text = _DATA_SEPARATOR.sub("", match.group(1))
        message = f"{text}{match.group(2).strip()}".replace("\\'", "'")
        raise ValueError(message) from None


# --- the model --------------------------------------------------------------------------------


def _leaves_by_name(data, names):
    """``{input or output name: leaf}`` for data shaped like a model's inputs or outputs."""
    if data is None:
        return {}
    if isinstance(data, dict):
        return {name: data[name] for name in names if name in data}
    if isinstance(data, (list, tuple)) and len(names) > 1 and len(data) == len(names):
        return dict(zip(names, data))
    if len(names) == 1:
        return {names[0]: data}
    return {}


def _is_host(value):
    return isinstance(value, (np.ndarray, np.generic, list, tuple, numbers.Number))


def _is_data(value):
    """Arrays, tensors, or dicts/lists/tuples of them (not generators, PyDatasets...)."""
    return (isinstance(value, dict) or _is_host(value) or keras.ops.is_tensor(value)
            or hasattr(value, "__array__"))


@keras.saving.register_keras_serializable(package="zoo")
class ZooModel(keras.Model):
    """A functional `keras.Model` that records its registry name and config,
    and checks the data it is given.

    ``fit``, ``evaluate``, ``predict``, ``train_on_batch``,
    ``test_on_batch``, ``predict_on_batch`` and calls on NumPy data check
    the integer inputs and the targets against ``input_ranges()`` and
    ``target_ranges()`` first (``check_data``), and raise a ``ValueError``
    naming the input, the allowed range and an offending value:

    - NumPy arrays and lists are checked on the host, before training;
    - tensors of the running backend with a min/max reduction on their
      device (two or three scalars come back; the data is not copied),
      once per call;
    - a ``tf.data.Dataset`` (``validation_data`` too) gets a check mapped
      over its elements (``tf.debugging.Assert``): a bad element fails
      with the same ``ValueError`` when it is consumed;
    - Python generators, ``keras.utils.PyDataset`` and torch ``DataLoader``s
      are *not* checked (their batches exist only while training runs);
      check such data yourself, e.g. with ``model.check_data(x, y)`` on
      a batch.

    Ids and class labels may be float arrays whose values are whole
    numbers (``2.0``); a fractional value (``1.7``) is refused, never
    truncated. Compiled train steps stay as they are: nothing runs per
    step. Sub-models (``zoo.encoder(model)``) are plain Keras models and
    check nothing.

    Args:
        inputs, outputs: as for a functional `keras.Model`.
        zoo_name: registry name of the builder that made the model.
        zoo_config: the full parameter dict the builder was called with.

    Example:

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> model.zoo_name
    'dense_autoencoder_toy'
    >>> import numpy as np
    >>> tagger = zoo.build("lstm_tagger", size="toy")
    >>> tagger.input_ranges()["tokens"].interval()
    '[0, 20)'
    >>> tagger.predict(np.array([[3, 25]]), verbose=0)
    Traceback (most recent call last):
    ...
    ValueError: `tokens` holds token ids outside [0, 20) ... Received: tokens=25
    """

    # *args/**kwargs keep Keras' functional (de)serialization path.
    def __init__(self, *args, zoo_name=None, zoo_config=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zoo_name = zoo_name
        self.zoo_config = dict(zoo_config or {})

    # --- declared ranges ---

    def input_ranges(self):
        """``{input name: ValueRange}`` for every integer input of the model.

        An input that an ``Embedding`` layer looks up holds ids in
        ``[0, input_dim)`` (the smallest ``input_dim`` when several do);
        any other integer input must hold whole numbers. Subclasses add
        what their layers cannot say (``GraphModel``: node ids below the
        number of nodes).
        """
        ranges = {}
        by_id = {id(tensor): tensor.name for tensor in self.inputs}
        for tensor in self.inputs:
            if _kind(tensor.dtype) == "int":
                ranges[tensor.name] = ValueRange(what="integer values")
        for layer in self.layers:
            if not isinstance(layer, keras.layers.Embedding):
                continue
            try:
                consumed = keras.tree.flatten(layer.input)
            except (AttributeError, ValueError, RuntimeError):
                continue  # a shared layer: no single input to read
            for tensor in consumed:
                name = by_id.get(id(tensor))
                current = ranges.get(name)
                if name is None or (current is not None and current.high is not None
                                    and current.high <= layer.input_dim):
                    continue
                ranges[name] = ValueRange(
                    0, layer.input_dim, what="token ids",
                    why=f"input_dim={layer.input_dim} of layer {quoted(layer.name)}")
        return ranges

    def target_ranges(self):
        """``{output name: ValueRange}`` that the compiled loss gives the targets.

        Sparse cross-entropy (Keras' or the zoo's padding-masked one) takes
        class ids in ``[0, classes)`` (plus its ignored id, e.g. -1 for
        unlabelled nodes); binary cross-entropy takes labels or
        probabilities in ``[0, 1]``. Other losses (or none) declare nothing.
        """
        loss = getattr(self, "loss", None)
        names = list(self.output_names)
        if loss is None:
            return {}
        if isinstance(loss, dict):
            per_output = [loss.get(name) for name in names]
        elif isinstance(loss, (list, tuple)):
            per_output = list(loss) if len(loss) == len(names) else [None] * len(names)
        else:
            per_output = [loss] * len(names)
        ranges = {}
        for name, output, output_loss in zip(names, self.outputs, per_output):
            value_range = _loss_target_range(output_loss, output.shape[-1], name)
            if value_range is not None:
                ranges[name] = value_range
        return ranges

    # --- checking data ---

    def _check_structure(self, x):
        """Static checks of ``x`` before its values (a hook); returns what to call with."""
        return x

    def _check_more_values(self, named):
        """Value checks of host data beyond the ranges (a hook for subclasses)."""

    def _range_table(self, ranges, names, display):
        return {name: (display(name), value_range) for name, value_range in ranges.items()
                if name in names}

    def _check_named(self, named, table):
        for name, (display, value_range) in table.items():
            if name not in named:
                continue
            value = named[name]
            high = _resolve_high(value_range, named)
            if keras.ops.is_tensor(value):
                if type(value).__name__ in ("SparseTensor", "RaggedTensor"):
                    continue  # not dense: Keras takes it only where a layer does
                check_tensor(display, value, value_range, high)
            elif _is_host(value) or hasattr(value, "__array__"):
                try:
                    array = np.asarray(value)
                except (ValueError, TypeError):
                    continue  # ragged lists: Keras says what is wrong with them
                check_values(display, array, value_range, high)

    def _tables(self):
        input_names = [tensor.name for tensor in self.inputs]
        output_names = list(self.output_names)
        inputs = self._range_table(self.input_ranges(), input_names, printable)
        single = len(output_names) == 1
        targets = self._range_table(
            self.target_ranges(), output_names,
            lambda name: "y" if single else f"y[{quoted(name)}]")
        return input_names, output_names, inputs, targets

    def check_data(self, x, y=None, check_targets=True):
        """Check ``x`` (and ``y``) against ``input_ranges``/``target_ranges``.

        Returns ``(x, y)``: unchanged, except that a ``tf.data.Dataset``
        comes back with the check mapped over its elements (it then fails
        when a bad element is consumed).

        Raises:
            ValueError: an id, node id or label outside its range, or a
                fractional id; the message names the input and ends with
                ``Received: name=value``.
        """
        tf = _tensorflow_for(x)
        input_names, output_names, inputs, targets = self._tables()
        if tf is not None:
            return self._checked_dataset(tf, x, inputs, targets if check_targets else {},
                                         input_names, output_names), y
        if not _is_data(x):
            return x, y  # a generator, PyDataset or DataLoader: not checked
        named = _leaves_by_name(self._check_structure(x), input_names)
        self._check_named(named, inputs)
        if all(_is_host(value) for value in named.values()):
            self._check_more_values(named)
        if check_targets and y is not None:
            self._check_named(_leaves_by_name(y, output_names), targets)
        return x, y

    def _checked_dataset(self, tf, dataset, inputs, targets, input_names, output_names):
        is_tuple = isinstance(dataset.element_spec, tuple)

        def check(*element):
            parts = element if is_tuple else element[:1]
            x = parts[0]
            y = parts[1] if len(parts) > 1 else None
            assertions = _dataset_assertions(tf, _leaves_by_name(x, input_names), inputs)
            if y is not None:
                assertions += _dataset_assertions(tf, _leaves_by_name(y, output_names),
                                                  targets)
            if not assertions:
                return element if is_tuple else element[0]
            with tf.control_dependencies(assertions):
                checked = tf.nest.map_structure(tf.identity, parts)
            return tuple(checked) if is_tuple else checked[0]

        return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def _checked_validation(self, data):
        if data is None:
            return data, False
        if _tensorflow_for(data) is not None:
            return self.check_data(data)[0], True
        if isinstance(data, (list, tuple)) and len(data) in (2, 3):
            self.check_data(data[0], data[1])
        return data, False

    def __call__(self, inputs, *args, **kwargs):
        # Host data (NumPy, lists) is checked here: cheap, and it is what an
        # eager call is given. Tensors may be traced inside a compiled step.
        inputs = self._check_structure(inputs)
        named = _leaves_by_name(inputs, [tensor.name for tensor in self.inputs])
        if named and all(_is_host(value) for value in named.values()):
            _, _, table, _ = self._tables()
            self._check_named(named, table)
            self._check_more_values(named)
        return super().__call__(inputs, *args, **kwargs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # TensorFlow only (under a tf.distribute strategy): see keras_compat.
        return keras_compat.symbolic_build_from_first_replica(
            self, super()._maybe_symbolic_build, iterator, data_batch)

    def fit(self, *args, **kwargs):
        bound = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs)
        arguments = bound.arguments
        arguments["x"], arguments["y"] = self.check_data(arguments.get("x"),
                                                         arguments.get("y"))
        dataset = _tensorflow_for(arguments["x"]) is not None
        if arguments.get("validation_data") is not None:
            arguments["validation_data"], mapped = self._checked_validation(
                arguments["validation_data"])
            dataset = dataset or mapped
        with _dataset_errors(self, dataset):
            return super().fit(*bound.args[1:], **bound.kwargs)

    def evaluate(self, *args, **kwargs):
        bound = inspect.signature(keras.Model.evaluate).bind(self, *args, **kwargs)
        arguments = bound.arguments
        arguments["x"], arguments["y"] = self.check_data(arguments.get("x"),
                                                         arguments.get("y"))
        with _dataset_errors(self, _tensorflow_for(arguments["x"]) is not None):
            return super().evaluate(*bound.args[1:], **bound.kwargs)

    def predict(self, x, *args, **kwargs):
        x, _ = self.check_data(x, check_targets=False)
        with _dataset_errors(self, _tensorflow_for(x) is not None):
            return super().predict(x, *args, **kwargs)

    def train_on_batch(self, x, y=None, *args, **kwargs):
        x, y = self.check_data(x, y)
        return super().train_on_batch(x, y, *args, **kwargs)

    def test_on_batch(self, x, y=None, *args, **kwargs):
        x, y = self.check_data(x, y)
        return super().test_on_batch(x, y, *args, **kwargs)

    def predict_on_batch(self, x):
        x, _ = self.check_data(x, check_targets=False)
        return super().predict_on_batch(x)

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


def _loss_name(loss):
    """A loss object, class, function or name as one lower-case name."""
    if isinstance(loss, str):
        return loss.lower()
    if getattr(loss, "fn", None) is not None:  # keras.losses.LossFunctionWrapper
        return _loss_name(loss.fn)
    return getattr(loss, "__name__", type(loss).__name__).lower()


def _loss_target_range(loss, classes, output_name):
    """The ``ValueRange`` the targets of one output have under ``loss`` (None: any)."""
    if loss is None:
        return None
    output = quoted(output_name)
    name = _loss_name(loss).replace("_", "")
    if isinstance(loss, MaskedSparseCrossentropy) or "sparsecategoricalcrossentropy" in name:
        if not isinstance(classes, int):
            return None
        ignored = getattr(loss, "pad_id", None)
        if ignored is None:
            ignored = getattr(loss, "ignore_class", None)
        low, high, note = 0, classes, ""
        if isinstance(ignored, int) and not 0 <= ignored < classes:
            low, high = min(0, ignored), max(classes, ignored + 1)
            note = f"; {ignored} is ignored"
        return ValueRange(low, high, what="class ids",
                          why=f"output {output} has {classes} classes{note}")
    if name in ("binarycrossentropy", "binaryfocalcrossentropy"):
        return ValueRange(0, 1, what="targets", integral=False,
                          why=f"binary cross-entropy of output {output} takes labels 0 and "
                              "1 or probabilities between")
    return None


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
