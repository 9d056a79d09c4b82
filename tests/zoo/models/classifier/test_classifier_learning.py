"""Every classifier learns a generated task that needs its inductive bias."""

import keras
import pytest

import zoo
from applications import generated

# Each task needs the model's inductive bias: order across the sequence for
# recurrent and attention models, neighbouring order for the 1D CNN, bar
# orientation for image models, the left neighbour for taggers.
LEARNING = {
    "rnn_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "lstm_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "gru_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "bilstm_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "transformer_classifier": (generated.marker_order, {
        "max_length": 16, "embedding_dim": 32, "num_heads": 4, "ff_dim": 64, "dropout": 0.0}),
    "cnn1d_classifier": (generated.adjacent_motif, {
        "embedding_dim": 16, "filters": (32,), "kernel_size": 3}),
    "cnn2d_classifier": (generated.oriented_bars, {
        "image_shape": (16, 16, 1), "num_classes": 3, "filters": (16, 32)}),
    "vit_classifier": (generated.oriented_bars, {
        "image_shape": (16, 16, 1), "num_classes": 3, "embedding_dim": 32, "num_heads": 4,
        "ff_dim": 64, "num_layers": 2, "dropout": 0.0}),
    "lstm_tagger": (generated.rise_tags, {"num_tags": 2, "embedding_dim": 16, "units": 32}),
    "transformer_tagger": (generated.rise_tags, {
        "num_tags": 2, "max_length": 16, "embedding_dim": 32, "num_heads": 4, "ff_dim": 64,
        "dropout": 0.0}),
}


def test_every_classifier_has_a_learning_task():
    assert set(LEARNING) == set(zoo.list_models(family="classifier"))


class StopAtValidationAccuracy(keras.callbacks.Callback):
    def __init__(self, target):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        accuracy = [v for k, v in logs.items() if k.startswith("val_") and "accuracy" in k]
        if accuracy and accuracy[0] >= self.target:
            self.model.stop_training = True


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LEARNING))
def test_learns_its_generated_task(name):
    task, params = LEARNING[name]
    if task is not generated.oriented_bars:
        params = {"vocab_size": 12, **params}
    x, y = task(4000, seed=1)
    x_val, y_val = task(500, seed=2)
    x_test, y_test = task(1000, seed=3)  # never seen while training or stopping
    model = zoo.build(name, learning_rate=3e-3, **params)
    model.fit(x, y, batch_size=64, epochs=15, verbose=0, validation_data=(x_val, y_val),
              callbacks=[StopAtValidationAccuracy(0.985)])
    scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    accuracy = scores.get("accuracy", scores.get("masked_accuracy"))
    print(f"{name} on {keras.backend.backend()}: held-out accuracy {accuracy:.4f} "
          f"after {len(model.history.epoch)} epochs, {model.count_params()} parameters")
    assert accuracy >= 0.95
