"""One JSON-safe conversion for everything the zoo writes as JSON.

The model card (``zoo_card.json``), an application's ``metrics.json`` and the
tuner's ``result.json`` all go through ``to_jsonable``, so a value is written
the same way everywhere:

- dicts keep their order, keys become strings; tuples and lists become lists;
- NumPy and backend scalars become Python numbers, arrays become nested lists;
- non-finite floats (NaN, inf, -inf) become the strings ``"nan"``, ``"inf"``
  and ``"-inf"`` (strict JSON has no such numbers; the strings keep them);
- paths become strings; any other object raises a ``TypeError`` naming it
  (nothing is written half-understood).

>>> import numpy as np
>>> to_jsonable({"loss": np.float32(0.5), "sizes": (2, 3), "bad": float("nan")})
{'loss': 0.5, 'sizes': [2, 3], 'bad': 'nan'}
"""

import math
import os


def to_jsonable(value):
    """``value`` converted to plain JSON types (see the module docstring)."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(item) for item in items]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy / backend arrays, scalars
        try:
            return to_jsonable(value.tolist())
        except (TypeError, ValueError, RuntimeError):
            pass
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        return to_jsonable(value.item())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON-serialisable. "
                    f"Received: {value!r}")


def _non_finite(value):
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"
