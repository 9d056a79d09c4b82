"""The registry's public face: listing, describing, building, and its errors."""

import inspect

import keras
import pytest

import zoo
from zoo.registry import resolve_params


def test_list_models_wildcards_and_natural_sort():
    assert zoo.list_models("*seq2seq*") == [
        "attention_seq2seq", "gru_seq2seq", "lstm_seq2seq", "transformer_seq2seq"]
    assert zoo.list_models("dense_autoencoder*") == [
        "dense_autoencoder", "dense_autoencoder_mnist", "dense_autoencoder_toy"]
    assert zoo.list_models("nothing-matches-*") == []
    assert zoo.list_models(family="seq2seq") == zoo.list_models("*seq2seq*")
    assert "lstm_seq2seq" not in zoo.list_models(task="reconstruction")


def test_natural_sort_orders_numbers_by_value():
    spec = zoo.get_spec("dense_autoencoder")
    names = [f"natural_sort_probe_{n}" for n in (10, 2, 1)]
    zoo.register_model(
        "natural_sort_probe", family=spec.family, task=spec.task, inputs=spec.inputs,
        outputs=spec.outputs, description=spec.description, citation=spec.citation,
        compiler=spec.compiler, capabilities=spec.capabilities, sizes=spec.sizes,
        presets={name: {} for name in names})(spec.builder)
    try:
        assert zoo.list_models("natural_sort_probe_*") == [
            "natural_sort_probe_1", "natural_sort_probe_2", "natural_sort_probe_10"]
    finally:
        for name in ["natural_sort_probe", *names]:
            zoo.unregister_model(name)
    assert zoo.list_models("natural_sort_probe*") == []


def test_unregister_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"Did you mean 'lstm_seq2seq'.*Received: name='lstm_seq2sq'$"):
        zoo.unregister_model("lstm_seq2sq")


def test_list_models_rejects_unknown_family_and_task():
    with pytest.raises(ValueError, match=r"Received: family='cnn'$"):
        zoo.list_models(family="cnn")
    with pytest.raises(ValueError, match=r"Received: task='dancing'$"):
        zoo.list_models(task="dancing")


def test_describe_returns_a_readable_spec():
    spec = zoo.describe("lstm_seq2seq")
    assert isinstance(spec, zoo.ModelSpec)
    assert spec.family == "seq2seq" and spec.search_space is not None
    assert spec.citation and spec.description and spec.inputs and spec.outputs
    text = str(spec)
    for piece in ("lstm_seq2seq", "latent_dim = 256", "source_tokens", "citation"):
        assert piece in text


def test_presets_are_data_on_one_builder():
    toy, mnist = zoo.get_spec("dense_autoencoder_toy"), zoo.get_spec("dense_autoencoder_mnist")
    base = zoo.get_spec("dense_autoencoder")
    assert toy.builder is mnist.builder is base.builder
    assert toy.preset_of == mnist.preset_of == "dense_autoencoder"
    model = zoo.build("dense_autoencoder_toy")
    assert [layer.units for layer in model.layers[1:]] == [2, 4]
    assert model.get_layer("code").activation is keras.activations.relu
    assert model.get_layer("reconstruction").activation is keras.activations.sigmoid
    mnist_model = zoo.build("dense_autoencoder_mnist", code_size=16)
    assert [layer.units for layer in mnist_model.layers[1:]] == [128, 16, 128, 784]
    assert isinstance(mnist_model.loss, keras.losses.BinaryCrossentropy)


def test_build_compiles_for_the_task_unless_told_not_to():
    model = zoo.build("dense_autoencoder_toy")
    assert model.compiled and isinstance(model.loss, keras.losses.MeanSquaredError)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert not zoo.build("dense_autoencoder_toy", compile=False).compiled
    seq = zoo.build("lstm_seq2seq", latent_dim=8, embedding_dim=4, learning_rate=0.02)
    assert isinstance(seq.loss, zoo.MaskedSparseCrossentropy)
    assert float(seq.optimizer.learning_rate) == pytest.approx(0.02)


def test_build_records_name_and_full_config():
    model = zoo.build("dense_autoencoder", code_size=7)
    assert model.zoo_name == "dense_autoencoder"
    assert model.zoo_config["code_size"] == 7
    assert set(model.zoo_config) == set(zoo.get_spec("dense_autoencoder").defaults)


def test_every_builder_parameter_has_a_default_and_a_doc():
    for name in zoo.list_models():
        spec = zoo.get_spec(name)
        doc = inspect.getdoc(spec.builder) or ""
        for param in spec.builder_params:
            assert param in doc, f"{name}: parameter {param!r} missing from the docstring"


# --- errors ---------------------------------------------------------------------------------


def test_unknown_model_name_names_the_closest():
    with pytest.raises(ValueError, match=r"Did you mean 'lstm_seq2seq'"):
        zoo.build("lstm_seq2sq")
    with pytest.raises(ValueError, match=r"Registered models: .*dense_autoencoder"):
        zoo.build("xyzzy")
    with pytest.raises(TypeError, match=r"Received: name=3"):
        zoo.build(3)


def test_unknown_override_lists_accepted_ones():
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) 'code_sise' \(did you mean "
                                        r"'code_size'\?\)\. Accepted: .*code_size.*"
                                        r"Received: code_sise=3$"):
        zoo.build("dense_autoencoder", code_sise=3)


def _positive_int_params():
    for name in zoo.list_models():
        for key, value in zoo.get_spec(name).defaults.items():
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                yield name, key


@pytest.mark.parametrize("name,key", list(_positive_int_params()))
@pytest.mark.parametrize("bad", [0, -3])
def test_sizes_must_be_positive(name, key, bad):
    with pytest.raises(ValueError, match=rf"Received: {key}={bad}$"):
        zoo.build(name, **{key: bad})


@pytest.mark.parametrize("name", zoo.list_models())
def test_unknown_activation_is_refused(name):
    keys = [key for key in zoo.get_spec(name).defaults if "activation" in key]
    for key in keys:
        with pytest.raises(ValueError, match=rf"Received: {key}='relux'$"):
            zoo.build(name, **{key: "relux"})


@pytest.mark.parametrize("value", [0, -1e-3, "fast"])
def test_learning_rate_must_be_positive(value):
    with pytest.raises(ValueError, match=rf"Received: learning_rate={value!r}$"):
        zoo.build("dense_autoencoder_toy", learning_rate=value)


def test_unknown_reconstruction_loss_is_refused():
    with pytest.raises(ValueError, match=r"'mse', 'mae', 'bce'\. Received: "
                                         r"reconstruction_loss='huber'$"):
        zoo.build("dense_autoencoder", reconstruction_loss="huber")


def test_bce_needs_a_sigmoid_output():
    with pytest.raises(ValueError, match=r"Received: output_activation=None$"):
        zoo.build("dense_autoencoder", reconstruction_loss="bce", output_activation=None)


@pytest.mark.parametrize("hidden", [(8, 0), "128", (4.5,)])
def test_hidden_units_must_be_positive_ints(hidden):
    with pytest.raises(ValueError, match=r"Received: hidden_units="):
        zoo.build("dense_autoencoder", hidden_units=hidden)


def test_dropout_must_be_a_rate():
    with pytest.raises(ValueError, match=r"Received: dropout=1\.5$"):
        zoo.build("lstm_seq2seq", dropout=1.5)


def test_special_tokens_must_fit_the_vocabulary():
    with pytest.raises(ValueError, match=r"Received: end_token=20$"):
        zoo.build("lstm_seq2seq", target_vocab_size=20, end_token=20)
    with pytest.raises(ValueError, match=r"Received: start_token=2, end_token=2$"):
        zoo.build("lstm_seq2seq", start_token=2, end_token=2)


def test_jit_compile_choice_is_checked():
    with pytest.raises(ValueError, match=r"Received: jit_compile='yes'$"):
        zoo.build("dense_autoencoder_toy", jit_compile="yes")


def test_resolve_params_merges_defaults():
    spec, params = resolve_params("dense_autoencoder_toy", {"code_size": 3})
    assert params["code_size"] == 3 and params["input_dim"] == 4 and spec.preset_of


def test_duplicate_registration_is_refused():
    spec = zoo.get_spec("dense_autoencoder")
    with pytest.raises(ValueError, match="already registered"):
        zoo.register_model("dense_autoencoder", family="autoencoder", task="reconstruction",
                           inputs={}, outputs={}, description="", citation="",
                           compiler=spec.compiler, capabilities=spec.capabilities,
                           sizes=spec.sizes)(spec.builder)


def test_register_rejects_unknown_family():
    with pytest.raises(ValueError, match=r"Received: family='mlp'$"):
        zoo.register_model("x", family="mlp", task="t", inputs={}, outputs={},
                           description="", citation="", compiler=lambda m: None,
                           capabilities=zoo.Capabilities(input_kinds=("vectors",)),
                           sizes={"toy": {}})


def test_encoder_needs_a_code_layer():
    inputs = keras.Input((3,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="plain")
    with pytest.raises(ValueError, match=r"Received: model='plain'$"):
        zoo.encoder(plain)
    with pytest.raises(TypeError, match=r"Received: model='not a model'$"):
        zoo.encoder("not a model")
