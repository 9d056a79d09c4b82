"""The model registry: one decorator, one spec per name, lookup with help.

A builder is a function whose keyword arguments (all with defaults) are the
model's parameters; it returns an uncompiled ``ZooModel``. A compile
function, keyed by the spec, turns a model plus its parameters into a
compiled one; its keyword arguments (``learning_rate``, ``jit_compile``,
loss choices, ...) are parameters too. ``build`` merges defaults, preset
values and overrides, checks every key, and calls both.

Presets are registry entries that reuse another entry's builder with other
defaults: variants differ in data, not in code.
"""

import dataclasses
import difflib
import fnmatch
import inspect
import re
import textwrap
from typing import Any, Callable

from zoo.model import ZooModel

FAMILIES = ("autoencoder", "classifier", "decoder", "graph", "seq2seq")

_REGISTRY: dict[str, "ModelSpec"] = {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the zoo knows about one registered model.

    Attributes:
        name: registry name, e.g. ``"lstm_seq2seq"``.
        family: one of ``FAMILIES``.
        task: what the model is trained for, e.g. ``"reconstruction"``.
        inputs: input name -> human description (dtype and shape).
        outputs: output name -> human description.
        defaults: every parameter with its default for this entry.
        description: one or two sentences.
        citation: where the architecture comes from.
        builder: ``f(**params) -> ZooModel`` (uncompiled).
        compiler: ``f(model, **params) -> None`` compiles in place.
        search_space: ``f(hp) -> dict`` of overrides drawn from a
            keras-tuner ``HyperParameters`` object, or ``None``.
        toy: overrides that make the model tiny, for tests and smoke runs.
        example_data: ``f(params, n, seed) -> (x, y)`` random valid data.
        preset_of: the entry this preset is based on, or ``None``.
    """

    name: str
    family: str
    task: str
    inputs: dict
    outputs: dict
    defaults: dict
    description: str
    citation: str
    builder: Callable = dataclasses.field(repr=False)
    compiler: Callable = dataclasses.field(repr=False)
    search_space: Callable | None = dataclasses.field(default=None, repr=False)
    toy: dict = dataclasses.field(default_factory=dict)
    example_data: Callable | None = dataclasses.field(default=None, repr=False)
    preset_of: str | None = None

    @property
    def builder_params(self):
        return _keyword_params(self.builder)

    @property
    def compile_params(self):
        return _keyword_params(self.compiler, skip_first=True)

    def __str__(self):
        lines = [f"{self.name}  ({self.family} / {self.task})"]
        if self.preset_of:
            lines.append(f"  preset of: {self.preset_of}")
        lines.append(textwrap.fill(self.description, 76, initial_indent="  ",
                                   subsequent_indent="  "))
        lines.append("  inputs:")
        lines += [f"    {key}: {value}" for key, value in self.inputs.items()]
        lines.append("  outputs:")
        lines += [f"    {key}: {value}" for key, value in self.outputs.items()]
        lines.append("  parameters (defaults):")
        lines += [f"    {key} = {value!r}" for key, value in self.defaults.items()]
        lines.append(f"  tunable: {'yes' if self.search_space else 'no'}")
        lines.append(f"  citation: {self.citation}")
        return "\n".join(lines)


def _keyword_params(function, skip_first=False):
    params = list(inspect.signature(function).parameters.values())
    if skip_first:
        params = params[1:]
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def register_model(name, *, family, task, inputs, outputs, description, citation,
                   compiler, search_space=None, toy=None, example_data=None,
                   presets=None):
    """Decorator: register ``builder`` under ``name`` with its spec.

    Args:
        presets: optional ``{preset_name: {param: value}}``; each becomes its
            own registry entry sharing this builder, with those defaults.

    Example:

    >>> @register_model("tiny_mlp", family="classifier", task="classification",
    ...                 inputs={...}, outputs={...}, description="...",
    ...                 citation="...", compiler=compile_classifier)
    ... def tiny_mlp(units=8): ...
    """
    if family not in FAMILIES:
        raise ValueError(f"`family` must be one of {FAMILIES}. Received: family={family!r}")

    def decorator(builder):
        for param in inspect.signature(builder).parameters.values():
            if param.default is inspect.Parameter.empty:
                raise TypeError(
                    f"Builder {builder.__name__} must give every parameter a default. "
                    f"Received: {param.name} without one"
                )
        defaults = {**_keyword_params(builder), **_keyword_params(compiler, skip_first=True)}
        base = ModelSpec(
            name=name, family=family, task=task, inputs=dict(inputs),
            outputs=dict(outputs), defaults=defaults, description=description,
            citation=citation, builder=builder, compiler=compiler,
            search_space=search_space, toy=dict(toy or {}),
            example_data=example_data,
        )
        _add(base)
        for preset_name, values in (presets or {}).items():
            values = dict(values)
            preset_description = values.pop("description", base.description)
            _check_keys(name, values, defaults)
            _add(dataclasses.replace(
                base, name=preset_name, defaults={**defaults, **values},
                description=preset_description, preset_of=name,
                # Toy sizes of the base still apply where the preset is silent.
                toy={k: v for k, v in base.toy.items() if k not in values},
            ))
        return builder

    return decorator


def _add(spec):
    if spec.name in _REGISTRY:
        raise ValueError(f"A model named {spec.name!r} is already registered.")
    _REGISTRY[spec.name] = spec


def _natural_key(text):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def get_spec(name):
    """The ``ModelSpec`` registered under ``name``; unknown names get suggestions."""
    if not isinstance(name, str):
        raise TypeError(f"Model name must be a string. Received: name={name!r}")
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = (f"Did you mean {', '.join(map(repr, close))}?" if close else
            f"Registered models: {', '.join(list_models())}.")
    raise ValueError(f"Unknown model {name!r}. {hint} Received: name={name!r}")


def list_models(pattern="*", family=None, task=None):
    """Registered names matching a shell-style ``pattern``, naturally sorted.

    >>> list_models("*autoencoder*")
    ['dense_autoencoder', 'dense_autoencoder_mnist', 'dense_autoencoder_toy']
    """
    if family is not None and family not in FAMILIES:
        raise ValueError(f"`family` must be one of {FAMILIES} or None. Received: family={family!r}")
    tasks = sorted({spec.task for spec in _REGISTRY.values()})
    if task is not None and task not in tasks:
        raise ValueError(f"`task` must be one of {tasks} or None. Received: task={task!r}")
    names = [
        spec.name for spec in _REGISTRY.values()
        if fnmatch.fnmatchcase(spec.name, pattern)
        and (family is None or spec.family == family)
        and (task is None or spec.task == task)
    ]
    return sorted(names, key=_natural_key)


def describe(name):
    """The spec of ``name``; ``print(describe(name))`` gives a readable card."""
    return get_spec(name)


def _check_keys(name, overrides, defaults):
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(defaults), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        received = ", ".join(f"{key}={overrides[key]!r}" for key in unknown)
        raise TypeError(
            f"{name} got unknown parameter(s) {', '.join(hints)}. Accepted: "
            f"{', '.join(sorted(defaults))}. Received: {received}"
        )


def resolve_params(name, overrides):
    """Defaults of ``name`` merged with checked ``overrides``."""
    spec = get_spec(name)
    _check_keys(name, overrides, spec.defaults)
    return spec, {**spec.defaults, **overrides}


def build(name, compile=True, **overrides):
    """Build the registered model ``name`` with the functional API.

    Args:
        name: a registry name (see ``list_models()``).
        compile: compile with the defaults that fit the model's task.
        **overrides: any parameter listed by ``describe(name)``.

    Returns:
        A ``ZooModel`` (a functional ``keras.Model``).

    Raises:
        ValueError: unknown name (with the closest names) or an impossible
            value (ending with what was received).
        TypeError: an unknown parameter (with the accepted ones).

    >>> model = build("dense_autoencoder", code_size=16)
    """
    spec, params = resolve_params(name, overrides)
    builder_args = {key: params[key] for key in spec.builder_params}
    compile_args = {key: params[key] for key in spec.compile_params}
    model = spec.builder(**builder_args)
    if not isinstance(model, ZooModel):
        raise TypeError(f"Builder of {name!r} must return a ZooModel. Received: {type(model)}")
    model.zoo_name = name
    model.zoo_config = params
    if compile:
        spec.compiler(model, **compile_args)
    return model


def all_specs() -> list[Any]:
    return [_REGISTRY[name] for name in list_models()]
