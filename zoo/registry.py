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
from typing import Callable

from zoo import budget, validation
from zoo.constants import FAMILIES, GENERATION_KINDS, INPUT_KINDS
from zoo.model import ZooModel

_REGISTRY: dict[str, "ModelSpec"] = {}


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a registered model can do, declared next to its builder.

    Code that needs to know what a model can do (``zoo.generate``,
    ``zoo.decoder``, ``zoo.sample``, the applications, the tuner, the
    benchmarks) reads these fields; it never looks at names.

    Args:
        input_kinds: the kinds of input the model takes, the default first
            (see ``zoo.constants.INPUT_KINDS``): ``vectors``, ``images``,
            ``series``, ``tokens``, ``token_pairs`` or ``graph``.
        generation: ``None``, ``"seq2seq"`` (``zoo.generate`` decodes a
            target from a source) or ``"language_model"`` (it continues a
            prompt).
        stepper: with ``generation``: the class that runs the model one
            token at a time, ``stepper(model)`` (see
            ``zoo.generation``); it lives with the builder that names the
            layers it reuses.
        variational: the model is a ``VariationalAutoencoder``:
            ``zoo.sample`` draws new data from it.
        decodable: ``zoo.decoder(model)`` maps a code back to the data.
        denoising: the model corrupts its own input while training.
        node_level: a graph model that scores nodes (``False``: graphs or
            node pairs), for graph models only.

    >>> Capabilities(input_kinds=("vectors",), decodable=True).decodable
    True
    """

    input_kinds: tuple
    generation: str | None = None
    stepper: type | None = dataclasses.field(default=None, repr=False)
    variational: bool = False
    decodable: bool = False
    denoising: bool = False
    node_level: bool = False

    def __post_init__(self):
        kinds = tuple(self.input_kinds) if isinstance(self.input_kinds, (list, tuple)) else ()
        if not kinds:
            raise ValueError("`input_kinds` must be a non-empty tuple of "
                             f"{INPUT_KINDS}. Received: input_kinds={self.input_kinds!r}")
        for kind in kinds:
            validation.choice("input_kinds", kind, INPUT_KINDS)
        object.__setattr__(self, "input_kinds", kinds)
        if self.generation is not None:
            validation.choice("generation", self.generation, GENERATION_KINDS)
            if self.stepper is None:
                raise ValueError("A model that generates must declare its `stepper`. "
                                 f"Received: generation={self.generation!r}, stepper=None")
        elif self.stepper is not None:
            raise ValueError("`stepper` needs `generation`. "
                             f"Received: stepper={self.stepper!r}, generation=None")

    def describe(self):
        """One line for ``zoo describe``."""
        parts = [f"inputs: {', '.join(self.input_kinds)}"]
        if self.generation:
            parts.append(f"generates ({self.generation})")
        parts += [flag for flag in ("variational", "decodable", "denoising", "node_level")
                  if getattr(self, flag)]
        return "; ".join(parts)


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
        capabilities: what the model can do (``Capabilities``).
        sizes: named size presets, ``{size_name: {param: value}}``; every
            entry has ``toy`` (tiny, for tests and smoke runs); ``small`` is
            what the applications train, ``bench`` what the benchmarks time.
            ``build(name, size=...)`` applies one.
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
    capabilities: Capabilities = None
    sizes: dict = dataclasses.field(default_factory=dict)
    example_data: Callable | None = dataclasses.field(default=None, repr=False)
    preset_of: str | None = None

    @property
    def toy(self):
        """The ``toy`` size preset: overrides that make the model tiny."""
        return dict(self.sizes["toy"])

    def size(self, size):
        """The overrides of the named size preset ``size``."""
        if size not in self.sizes:
            raise ValueError(f"{self.name} has no size preset {size!r}; it has "
                             f"{', '.join(map(repr, self.sizes))}. Received: size={size!r}")
        return dict(self.sizes[size])

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
        lines.append(f"  can: {self.capabilities.describe()}")
        lines.append(f"  sizes: {', '.join(self.sizes)}")
        lines.append(f"  tunable: {'yes' if self.search_space else 'no'}")
        lines.append(f"  citation: {self.citation}")
        return "\n".join(lines)


def _keyword_params(function, skip_first=False):
    params = list(inspect.signature(function).parameters.values())
    if skip_first:
        params = params[1:]
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def register_model(name, *, family, task, inputs, outputs, description, citation,
                   compiler, capabilities, sizes, search_space=None, example_data=None,
                   presets=None):
    """Decorator: register ``builder`` under ``name`` with its spec.

    Args:
        capabilities: a ``Capabilities``: what the model can do.
        sizes: ``{size_name: {param: value}}`` named size presets; ``toy``
            is required.
        presets: optional ``{preset_name: {param: value}}``; each becomes its
            own registry entry sharing this builder, with those defaults.
            A preset may also set any of ``PRESET_FIELDS`` (``description``,
            ``task``, ``inputs``, ``outputs``, ``citation``, ``example_data``,
            ``search_space``), ``capabilities`` (a dict of the fields that
            differ) and ``sizes`` (size presets that differ; ``None`` drops
            one of the base's).

    Example (complete; afterwards ``zoo.build("tiny_autoencoder")`` works
    like any other entry)::

        import keras
        from zoo import Capabilities, ZooModel, register_model

        def compile_tiny(model, learning_rate=1e-3):
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")

        @register_model(
            "tiny_autoencoder", family="autoencoder", task="reconstruction",
            inputs={"features": "float32 [batch, 8]"},
            outputs={"reconstruction": "float32 [batch, 8]"},
            description="One dense layer down to a code and one back up.",
            citation="none", compiler=compile_tiny,
            capabilities=Capabilities(input_kinds=("vectors",), decodable=True),
            sizes={"toy": {"code_size": 2}})
        def tiny_autoencoder(code_size=4):
            '''A one-layer autoencoder.

            Args:
                code_size: width of the code.
            '''
            inputs = keras.Input((8,), name="features")
            code = keras.layers.Dense(code_size, name="code")(inputs)
            outputs = keras.layers.Dense(8, name="reconstruction")(code)
            return ZooModel(inputs, outputs, name="tiny_autoencoder")
    """
    validation.choice("family", family, FAMILIES)
    if not isinstance(capabilities, Capabilities):
        raise TypeError(f"`capabilities` must be a zoo.Capabilities. "
                        f"Received: capabilities={capabilities!r}")
    if not isinstance(sizes, dict) or "toy" not in sizes:
        raise ValueError(f"`sizes` must be a dict with a 'toy' entry. Received: sizes={sizes!r}")

    def decorator(builder):
        for param in inspect.signature(builder).parameters.values():
            if param.default is inspect.Parameter.empty:
                raise TypeError(
                    f"Builder {builder.__name__} must give every parameter a default. "
                    f"Received: {param.name} without one"
                )
        # The builder's defaults win where the compile function shares a parameter
        # (num_classes): the builder documents what the model is.
        defaults = {**_keyword_params(compiler, skip_first=True), **_keyword_params(builder)}
        for size_name, values in sizes.items():
            _check_keys(f"{name} size preset {size_name!r}", values, defaults)
        base = ModelSpec(
            name=name, family=family, task=task, inputs=dict(inputs),
            outputs=dict(outputs), defaults=defaults, description=description,
            citation=citation, builder=builder, compiler=compiler,
            search_space=search_space, capabilities=capabilities,
            sizes={key: dict(value) for key, value in sizes.items()},
            example_data=example_data,
        )
        _add(base)
        for preset_name, values in (presets or {}).items():
            _add(_preset(base, preset_name, dict(values)))
        return builder

    return decorator


# Spec fields a preset may set besides parameter values and capabilities.
PRESET_FIELDS = ("description", "task", "inputs", "outputs", "citation", "example_data",
                 "search_space")


def _preset(base, preset_name, values):
    fields = {key: values.pop(key) for key in PRESET_FIELDS if key in values}
    capabilities = dataclasses.replace(base.capabilities, **values.pop("capabilities", {}))
    own_sizes = values.pop("sizes", {})
    _check_keys(base.name, values, base.defaults)
    sizes = {}
    for size_name in {**base.sizes, **own_sizes}:
        if size_name in own_sizes and own_sizes[size_name] is None:
            continue  # the preset drops a size of its base
        # Sizes of the base still apply where the preset sets the value itself.
        inherited = {k: v for k, v in base.sizes.get(size_name, {}).items() if k not in values}
        sizes[size_name] = {**inherited, **own_sizes.get(size_name, {})}
        _check_keys(f"{preset_name} size preset {size_name!r}", sizes[size_name], base.defaults)
    if "toy" not in sizes:
        raise ValueError(f"Preset {preset_name!r} cannot drop the 'toy' size. "
                         f"Received: sizes={own_sizes!r}")
    return dataclasses.replace(
        base, name=preset_name, defaults={**base.defaults, **values}, preset_of=base.name,
        capabilities=capabilities, sizes=sizes, **fields)


def _add(spec):
    if spec.name in _REGISTRY:
        raise ValueError(f"A model named {spec.name!r} is already registered.")
    _REGISTRY[spec.name] = spec


def unregister_model(name):
    """Remove ``name`` from the registry and return its spec (for tests and notebooks).

    Presets of ``name`` stay registered; remove them by their own names.

    Raises:
        ValueError: ``name`` is not registered (with the closest names).
    """
    spec = get_spec(name)
    del _REGISTRY[spec.name]
    return spec


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

    >>> list_models("dense_autoencoder*")
    ['dense_autoencoder', 'dense_autoencoder_mnist', 'dense_autoencoder_toy']
    """
    if family is not None:
        validation.choice("family", family, FAMILIES)
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


def resolve_params(name, overrides, size=None):
    """Defaults of ``name``, then the size preset ``size``, then checked ``overrides``."""
    spec = get_spec(name)
    _check_keys(name, overrides, spec.defaults)
    sized = {} if size is None else spec.size(size)
    return spec, {**spec.defaults, **sized, **overrides}


def spec_of(model):
    """The ``ModelSpec`` of a model built by ``zoo.build`` or loaded by ``zoo.load``.

    Raises:
        ValueError: the model does not name a registered zoo model.
    """
    name = getattr(model, "zoo_name", None)
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError("The model does not come from zoo.build or zoo.load (it names no "
                         f"registered zoo model). Received: model={getattr(model, 'name', model)!r}"
                         f" with zoo_name={name!r}")
    return _REGISTRY[name]


def model_params(model):
    """Every parameter of a zoo model: its entry's defaults, then its own config.

    A file saved before a parameter existed still gets that parameter's
    default from the registry.
    """
    return {**spec_of(model).defaults, **dict(getattr(model, "zoo_config", None) or {})}


def build(name, compile=True, size=None, max_parameters=None, **overrides):
    """Build the registered model ``name`` with the functional API.

    Args:
        name: a registry name (see ``list_models()``).
        compile: compile with the defaults that fit the model's task.
        size: a named size preset of the entry (``"toy"``, ``"small"``, ...;
            ``describe(name)`` lists them), applied before ``overrides``.
        max_parameters: the most parameters the model may declare (default
            ``zoo.budget.MAX_PARAMETERS``, 10**9); checked before anything
            is allocated.
        **overrides: any parameter listed by ``describe(name)``.

    Returns:
        A ``ZooModel`` (a functional ``keras.Model``).

    Raises:
        ValueError: unknown name (with the closest names) or an impossible
            value (ending with what was received).
        TypeError: an unknown parameter (with the accepted ones).
        zoo.budget.ParameterBudgetError: the model would declare more than
            ``max_parameters`` parameters (a ``ValueError``).

    >>> model = build("dense_autoencoder", code_size=16)
    """
    spec, params = resolve_params(name, overrides, size=size)
    builder_args = {key: params[key] for key in spec.builder_params}
    compile_args = {key: params[key] for key in spec.compile_params}
    with budget.within_budget(repr(name), max_parameters):
        model = spec.builder(**builder_args)
    if not isinstance(model, ZooModel):
        raise TypeError(f"Builder of {name!r} must return a ZooModel. Received: {type(model)}")
    model.zoo_name = name
    model.zoo_config = params
    if compile:
        spec.compiler(model, **compile_args)
    return model

