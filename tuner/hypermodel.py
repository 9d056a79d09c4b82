"""A keras-tuner ``HyperModel`` over any registry entry.

The space is the one the model declares (``ModelSpec.search_space``, a
function of a keras-tuner ``hp`` returning ``zoo.build`` overrides). The
user edits it by name, without touching the model's code:

- ``value`` (int, float, str, bool) fixes a hyperparameter (``hp.Fixed``);
- ``(low, high)`` narrows a numeric range (keeps the declared sampling and
  step where they still fit);
- ``[a, b, c]`` makes it a choice;
- ``{"min": .., "max": .., "step": .., "sampling": ..}`` spells a range out.

A name the space does not declare but that ``zoo.build`` accepts (say
``dropout`` or ``activation``) is *added*: it becomes a hyperparameter and
its value goes to ``zoo.build``. ``zoo.build`` itself splits the values
between the builder and the compile function (``learning_rate``).
"""

import difflib
import math

import keras
import keras_tuner

import zoo
from tuner import compat
from zoo import search_spaces

_SCALARS = (bool, int, float, str)


def default_space(spec):
    """The space used for a spec that declares none: the learning rate only."""

    def space(hp):
        if "learning_rate" in spec.compile_params:
            return {"learning_rate": search_spaces.learning_rate(hp)}
        return {}

    return space


class NonFiniteLossError(keras_tuner.errors.FailedTrialError):
    """A trial's loss became NaN or infinite; keras-tuner marks it FAILED."""


class FailOnNonFinite(keras.callbacks.Callback):
    """Raise ``NonFiniteLossError`` when a logged loss is NaN or infinite.

    ``keras.callbacks.TerminateOnNaN`` only stops training, so the trial
    would still count as completed; raising makes keras-tuner record it as
    ``FAILED`` and go on with the next one.

    Args:
        monitor: the log keys to check after every batch and epoch.

    Example:

    >>> model = zoo.build("dense_autoencoder", size="toy")
    >>> x = np.full((4, 6), np.nan, "float32")
    >>> model.fit(x, x, callbacks=[FailOnNonFinite()], verbose=0)
    Traceback (most recent call last):
    ...
    tuner.hypermodel.NonFiniteLossError: ...
    """

    def __init__(self, monitor=("loss", "val_loss")):
        super().__init__()
        self.monitor = tuple(monitor)

    def _check(self, logs, where):
        for key in self.monitor:
            if logs and key in logs:
                value = float(logs[key])
                if not math.isfinite(value):
                    raise NonFiniteLossError(
                        f"The trial diverged: {key} is not finite {where}. "
                        f"Received: {key}={value}"
                    )

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"after batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, f"after epoch {epoch}")


class _Edited:
    """Wraps a keras-tuner ``hp`` so the user's edits replace declared entries.

    The first definition of a name wins in keras-tuner; this wrapper makes the
    user's definition the one that is registered, whatever the declared space
    asks for.
    """

    def __init__(self, hp, edits, declared=None):
        self._hp = hp
        self._edits = edits
        self._declared = declared

    def __getattr__(self, name):
        return getattr(self._hp, name)

    def _maybe_edit(self, kind, name, **declared):
        if self._declared is not None:
            self._declared.setdefault(name, {"type": kind, **declared})
        if name in self._edits:
            return _define(self._hp, name, self._edits[name], kind, declared)
        return None

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None,
            **kwargs):
        edited = self._maybe_edit("Int", name, min_value=min_value, max_value=max_value,
                                  step=step, sampling=sampling)
        if name in self._edits:
            return edited
        return self._hp.Int(name, min_value, max_value, step=step, sampling=sampling,
                            default=default, **kwargs)

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None,
              **kwargs):
        edited = self._maybe_edit("Float", name, min_value=min_value, max_value=max_value,
                                  step=step, sampling=sampling)
        if name in self._edits:
            return edited
        return self._hp.Float(name, min_value, max_value, step=step, sampling=sampling,
                              default=default, **kwargs)

    def Choice(self, name, values, ordered=None, default=None, **kwargs):
        edited = self._maybe_edit("Choice", name, values=list(values))
        if name in self._edits:
            return edited
        return self._hp.Choice(name, values, ordered=ordered, default=default, **kwargs)

    def Boolean(self, name, default=False, **kwargs):
        edited = self._maybe_edit("Boolean", name)
        if name in self._edits:
            return edited
        return self._hp.Boolean(name, default=default, **kwargs)

    def Fixed(self, name, value, **kwargs):
        edited = self._maybe_edit("Fixed", name, value=value)
        if name in self._edits:
            return edited
        return self._hp.Fixed(name, value, **kwargs)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _define(hp, name, edit, kind=None, declared=None):
    """Register the user's ``edit`` of ``name`` on ``hp``; return its value."""
    declared = declared or {}
    if isinstance(edit, _SCALARS):
        return hp.Fixed(name, edit)
    if isinstance(edit, list):
        return hp.Choice(name, edit)
    if isinstance(edit, tuple):
        edit = {"min": edit[0], "max": edit[1]}
    low, high = edit["min"], edit["max"]
    sampling = edit.get("sampling")
    if sampling is None:
        sampling = declared.get("sampling") or "linear"
        if sampling in ("log", "reverse_log") and low <= 0:
            sampling = "linear"
    step = edit.get("step", declared.get("step") if kind in ("Int", "Float") else None)
    integer = isinstance(low, int) and isinstance(high, int) and kind != "Float"
    if integer:
        return hp.Int(name, low, high, step=step, sampling=sampling)
    return hp.Float(name, float(low), float(high), step=step, sampling=sampling)


def _check_edit(name, edit):
    """Validate one user edit; raise ``ValueError``/``TypeError`` naming it."""
    if isinstance(edit, _SCALARS):
        return
    if isinstance(edit, list):
        if not edit or not all(isinstance(v, _SCALARS) for v in edit):
            raise ValueError(
                f"A choice must be a non-empty list of int, float, str or bool. "
                f"Received: {name}={edit!r}"
            )
        if len({type(v) for v in edit}) > 1 and not all(_is_number(v) for v in edit):
            raise ValueError(f"A choice must hold values of one type. Received: {name}={edit!r}")
        return
    if isinstance(edit, tuple):
        if len(edit) != 2 or not all(_is_number(v) for v in edit):
            raise ValueError(
                "A range is a tuple (low, high) of two numbers. "
                f"Received: {name}={edit!r}"
            )
        edit = {"min": edit[0], "max": edit[1]}
    if isinstance(edit, dict):
        unknown = sorted(set(edit) - {"min", "max", "step", "sampling"})
        if unknown or "min" not in edit or "max" not in edit:
            raise ValueError(
                "A range dict takes 'min', 'max' and optionally 'step' and 'sampling'. "
                f"Received: {name}={edit!r}"
            )
        if not (_is_number(edit["min"]) and _is_number(edit["max"])) or edit["min"] > edit["max"]:
            raise ValueError(
                f"A range needs numbers with min <= max. Received: {name}={edit!r}"
            )
        if edit.get("sampling", "linear") not in ("linear", "log", "reverse_log"):
            raise ValueError(
                "`sampling` must be 'linear', 'log' or 'reverse_log'. "
                f"Received: {name}={edit!r}"
            )
        if edit.get("sampling") in ("log", "reverse_log") and edit["min"] <= 0:
            raise ValueError(f"A log range needs min > 0. Received: {name}={edit!r}")
        return
    raise TypeError(
        "A hyperparameter edit is a value (fix), a (low, high) tuple or a dict (range), "
        f"or a list (choice). Received: {name}={edit!r}"
    )


class ZooHyperModel(keras_tuner.HyperModel):
    """keras-tuner ``HyperModel`` that builds the registry entry ``model_name``.

    Args:
        model_name: a registry name (see ``zoo.list_models()``).
        hyperparameters: optional edits of the declared space, by name: a
            value fixes it, ``(low, high)`` or a ``{"min", "max", "step",
            "sampling"}`` dict narrows it, a list makes it a choice. A name the
            space does not declare but ``zoo.build`` accepts is added.
        overrides: ``zoo.build`` arguments that are not searched (input sizes,
            vocabularies, ``num_classes``, ...). They win over the space; a
            declared hyperparameter given here is fixed.
        name: optional HyperModel name.

    Example:

    >>> import keras_tuner
    >>> hypermodel = ZooHyperModel("dense_autoencoder",
    ...                            hyperparameters={"code_size": (2, 8), "activation": "relu"},
    ...                            overrides={"input_dim": 64})
    >>> model = hypermodel.build(keras_tuner.HyperParameters())
    >>> model.input_shape
    (None, 64)
    """

    def __init__(self, model_name, hyperparameters=None, overrides=None, name=None):
        super().__init__(name=name or model_name)
        self.spec = zoo.get_spec(model_name)
        self.model_name = self.spec.name
        self.overrides = dict(overrides or {})
        zoo.registry.resolve_params(self.model_name, self.overrides)  # unknown keys raise
        self.space_fn = self.spec.search_space or default_space(self.spec)
        self.has_declared_space = self.spec.search_space is not None
        edits = dict(hyperparameters or {})
        for key, value in edits.items():
            _check_edit(key, value)
        both = sorted(set(edits) & set(self.overrides))
        if both:
            raise ValueError(
                f"{both[0]!r} is both searched (hyperparameters) and fixed (overrides); "
                f"give it in one of them. Received: {both[0]}={edits[both[0]]!r} and "
                f"{both[0]}={self.overrides[both[0]]!r}"
            )
        declared = self.declared_space()
        unknown = [key for key in edits if key not in declared and key not in self.spec.defaults]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, list(declared) + list(self.spec.defaults), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{self.model_name} has no hyperparameter or parameter named {key!r}.{hint} "
                f"Declared hyperparameters: {', '.join(declared) or 'none'}; any parameter "
                f"of describe({self.model_name!r}) can be added. Received: {key}={edits[key]!r}"
            )
        # Declared names fixed through `overrides` are recorded as fixed.
        for key, value in self.overrides.items():
            if key in declared and key not in edits and isinstance(value, _SCALARS):
                edits[key] = value
        self.edits = edits
        self.added = [key for key in edits if key not in declared]

    def declared_space(self):
        """``{name: description}`` of every hyperparameter the space declares.

        The space is probed without building a model: Int hyperparameters are
        set to their maximum until no new name appears, so per-layer widths
        that depend on a depth are found too.
        """
        found = {}
        hp = keras_tuner.HyperParameters()
        for _ in range(6):
            before = len(found)
            self.space_fn(_Edited(hp, {}, declared=found))
            for item in hp.space:
                if compat.is_int(item):
                    hp.values[item.name] = item.max_value
            if len(found) == before and before:
                break
        return found

    def declare_hyperparameters(self, hp):
        """Register every declared and edited hyperparameter on ``hp``."""
        probe = hp.copy()
        for _ in range(6):
            before = len(probe.space)
            self._values(probe)
            for item in probe.space:
                if compat.is_int(item):
                    probe.values[item.name] = item.max_value
            if len(probe.space) == before:
                break
        hp.merge(probe.space, overwrite=False)

    def _values(self, hp):
        edited = _Edited(hp, self.edits)
        drawn = self.space_fn(edited)
        added = {key: _define(hp, key, self.edits[key]) for key in self.added}
        return drawn, added

    def params(self, hp):
        """The ``zoo.build`` keyword arguments for the values in ``hp``."""
        drawn, added = self._values(hp)
        return {**drawn, **added, **self.overrides}

    def build(self, hp):
        return zoo.build(self.model_name, **self.params(hp))

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        for callback in callbacks or []:
            # A trial the tuner stopped (time budget, pruning) trains no further execution.
            replayed = callback.replay() if hasattr(callback, "replay") else None
            if replayed is not None:
                return replayed
        callbacks = list(callbacks or []) + [FailOnNonFinite()]
        return model.fit(*args, callbacks=callbacks, **kwargs)
