"""The parameter budget: declared sizes are measured before anything is allocated."""

import keras
import pytest

import zoo
from zoo import budget


def test_build_refuses_an_allocation_bomb_before_allocating():
    # 257 billion parameters: without the budget JAX returned the model and
    # TensorFlow/torch died in their allocators.
    with pytest.raises(budget.ParameterBudgetError,
                       match=r"'dense_autoencoder' declares 257,000,201,744 parameters, over "
                             r"the budget of 1,000,000,000; nothing was allocated"):
        zoo.build("dense_autoencoder", code_size=10**9)


def test_build_budget_is_a_value_error_and_can_be_raised_or_lowered():
    model = zoo.build("dense_autoencoder_toy")
    count = model.count_params()
    with pytest.raises(ValueError, match=rf"declares {count:,} parameters, over the budget of 10"):
        zoo.build("dense_autoencoder_toy", max_parameters=10)
    assert zoo.build("dense_autoencoder_toy", max_parameters=count).count_params() == count


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "many"])
def test_max_parameters_is_checked(bad):
    with pytest.raises(ValueError, match=r"`max_parameters` must be a positive integer or None. "
                                         r"Received: max_parameters="):
        zoo.build("dense_autoencoder_toy", max_parameters=bad)


def test_within_budget_allocates_what_fits_with_the_same_values():
    keras.utils.set_random_seed(7)
    plain = keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(seed=1))
    plain.build((None, 4))
    with budget.within_budget("a probe", max_parameters=15):
        deferred = keras.layers.Dense(
            3, kernel_initializer=keras.initializers.GlorotUniform(seed=1))
        deferred.build((None, 4))
    assert deferred.count_params() == 15
    assert (keras.ops.convert_to_numpy(deferred.kernel)
            == keras.ops.convert_to_numpy(plain.kernel)).all()


def test_within_budget_refuses_and_leaves_nothing_to_allocate_later():
    with pytest.raises(budget.ParameterBudgetError, match=r"a probe declares 500,000,000,000"):
        with budget.within_budget("a probe"):
            keras.layers.Dense(10**11).build((None, 4))
    # The refused variables are gone: a later, ordinary model is unaffected.
    model = zoo.build("dense_autoencoder_toy")
    assert model.predict(zoo.get_spec("dense_autoencoder_toy").example_data(
        zoo.model_params(model), 4, 0)[0], verbose=0).shape[0] == 4
