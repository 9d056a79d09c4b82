"""zoo/models/autoencoder/lstm.py: the LSTM sequence autoencoder and anomaly scores."""

import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import zoo
from tests.harness import run_builder_test


def test_builder(tmp_path):
    run_builder_test("lstm_autoencoder", tmp_path=tmp_path, expected_output_shape=(4, 5, 2))


def test_bce_needs_a_sigmoid_output():
    with pytest.raises(ValueError, match=r"Received: output_activation=None$"):
        zoo.build("lstm_autoencoder", reconstruction_loss="bce")


def _sine_windows(n, rng, timesteps=32):
    starts = rng.integers(0, 5000, n)
    t = starts[:, None] + np.arange(timesteps)[None, :]
    x = (np.sin(2 * np.pi * t / 16) + 0.5 * np.sin(2 * np.pi * t / 5.3)
         + 0.1 * rng.standard_normal((n, timesteps)))
    return x[..., None].astype("float32")


def _inject_anomalies(x, rng):
    """One anomaly per window: a spike, a level shift or a frozen sensor."""
    x = x.copy()
    for window, kind in zip(x, rng.integers(0, 3, len(x))):
        at = rng.integers(4, x.shape[1] - 10)
        if kind == 0:
            window[at:at + 2, 0] += rng.choice([-2.0, 2.0])
        elif kind == 1:
            window[at:at + 8, 0] += rng.choice([-0.8, 0.8])
        else:
            window[at:at + 10, 0] = window[at, 0]
    return x


@pytest.mark.slow
def test_lstm_autoencoder_separates_injected_anomalies():
    rng = np.random.default_rng(0)
    train = _sine_windows(512, rng)
    normal, anomalous = _sine_windows(200, rng), _inject_anomalies(_sine_windows(200, rng), rng)
    windows = np.concatenate([normal, anomalous])
    labels = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]
    model = zoo.build("lstm_autoencoder", timesteps=32, features=1, units=32, code_size=8,
                      learning_rate=5e-3)
    model.fit(train, train, batch_size=32, epochs=12, verbose=0)
    auc = roc_auc_score(labels, zoo.reconstruction_error(model, windows))
    energy_auc = roc_auc_score(labels, np.mean(windows ** 2, axis=(1, 2)))  # naive baseline
    print(f"\n[{keras.backend.backend()}] LSTM autoencoder anomaly ROC-AUC {auc:.4f} "
          f"(signal-energy baseline {energy_auc:.4f})")
    assert auc >= 0.95 and auc > energy_auc
