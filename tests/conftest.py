import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest runs two worker processes (addopts "-n 2") on our 2-core
    # machines: one compute thread each, so they never oversubscribe the
    # cores. Must be set before TensorFlow or JAX is imported.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.backend.backend() == "torch":
    import torch

    # Tiny models spend their time in op overhead. On an idle 2-core machine
    # a second intra-op thread gains ~10% (0.44 s vs 0.49 s per LSTM-tagger
    # epoch); when anything else runs beside the tests it made the same
    # epoch 13x slower (12.0 s vs 0.92 s). One thread is the safe choice.
    torch.set_num_threads(1)


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend: {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(1234)


@pytest.fixture(autouse=True, scope="module")
def _fresh_session_per_module():
    # clear_session() runs a full gc.collect (~0.3 s): once per module, not per test.
    yield
    keras.backend.clear_session()


#: The real datasets (Cora, UD English EWT, Fashion-MNIST): $ZOO_REAL_DATA, or
#: ``../shared/data`` beside the checkout.
REAL_DATA = os.environ.get("ZOO_REAL_DATA") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared",
    "data")


@pytest.fixture
def real_data():
    """``real_data(folder)``: a folder of the real datasets. Skipped where a machine has
    none, failed instead where ``ZOO_REQUIRE_REAL_DATA`` is set (CI sets it)."""
    import pathlib

    def folder(name):
        path = pathlib.Path(REAL_DATA) / name
        if not path.exists():
            if os.environ.get("ZOO_REQUIRE_REAL_DATA"):
                pytest.fail(f"ZOO_REQUIRE_REAL_DATA is set but {path} is missing")
            pytest.skip(f"the real dataset {path} is not on this machine")
        return path

    return folder
