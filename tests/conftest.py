import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.backend.backend() == "torch":
    import torch

    # Tiny models spend their time in op overhead: a second intra-op thread
    # only adds synchronisation, and on a busy 2-core machine it made a
    # torch LSTM epoch 13x slower (measured 12.0 s vs 0.92 s).
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
