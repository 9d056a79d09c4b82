"""A parameter budget: what a model declares is measured before it is allocated.

A builder argument (``code_size=10**9``) or an edited ``.keras`` config
(``Dense(units=10**11)``) can declare more parameters than any machine
holds; the backend's allocator would then be the only check, after minutes
of work or with the machine swapping. ``within_budget`` runs a block that
creates a model with its variables' values deferred, counts what they
declare, and either allocates them or refuses with ``ParameterBudgetError``,
having allocated nothing.

>>> import keras
>>> with within_budget("a probe", max_parameters=100):
...     layer = keras.layers.Dense(4)
...     layer.build((None, 3))
>>> layer.count_params()
16
"""

import contextlib
import math
import numbers

from zoo import keras_compat

#: The default most parameters one model may declare (4 GB of float32).
MAX_PARAMETERS = 1_000_000_000


class ParameterBudgetError(ValueError):
    """A model declares more parameters than the budget allows."""


def check_max_parameters(value):
    """``max_parameters``: a positive integer, or None for ``MAX_PARAMETERS``."""
    if value is None:
        return MAX_PARAMETERS
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`max_parameters` must be a positive integer or None. "
                         f"Received: max_parameters={value!r}")
    return int(value)


def declared_parameters(variables):
    """How many values ``variables`` declare (their shapes' products, summed)."""
    return sum(math.prod(int(dim) for dim in variable.shape) for variable in variables)


@contextlib.contextmanager
def within_budget(what, max_parameters=None):
    """Create variables in the block; allocate them only if they fit the budget.

    Args:
        what: how the error names the model (``"dense_autoencoder"``,
            ``"'model.keras'"``).
        max_parameters: the budget (default ``MAX_PARAMETERS``).

    Raises:
        ParameterBudgetError: the block's variables declare more values than
            ``max_parameters``; none of them was allocated.
    """
    limit = check_max_parameters(max_parameters)
    with keras_compat.deferred_variables() as created:
        yield
    total = declared_parameters(created)
    if total > limit:
        keras_compat.discard(created)
        raise ParameterBudgetError(
            f"{what} declares {total:,} parameters, over the budget of {limit:,}; nothing "
            f"was allocated. Pass max_parameters= to allow more. Received: "
            f"{total} parameters")
    keras_compat.allocate(created)
