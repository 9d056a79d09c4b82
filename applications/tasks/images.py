"""Image tasks for autoencoders: ``reconstruction``, ``denoising``, ``generation``,
``anomaly`` and ``dim_reduction``.

Offline default: scikit-learn's 8x8 handwritten digits (real data that ships
with scikit-learn); ``mnist`` and ``fashion_mnist`` come from
tensorflow-datasets. The layout follows the model: flat vectors
(``features``), images (``images``) or rows as a series (``series``).
"""

import pathlib
import weakref

import numpy as np

import zoo
from applications import data as data_layer
from applications import plots
from applications.tasks import scoring
from applications.tasks.base import DatasetInfo, TaskData, register_task

IMAGE_FILES = ("a folder of MNIST-family IDX files (train-images-idx3-ubyte[.gz], "
               "train-labels-idx1-ubyte[.gz], t10k-...), or a Keras dataset .npz (x_train, "
               "y_train, x_test, y_test); mnist and fashion_mnist are read from the Keras "
               "cache (~/.keras/datasets) when it holds them")
IMAGE_DATASETS = [
    DatasetInfo("digits", "scikit-learn",
                "8x8 handwritten digits, 1,797 images (real data shipped with scikit-learn)",
                True),
    DatasetInfo("mnist", "tfds", "28x28 handwritten digits, 60k train / 10k test", False),
    DatasetInfo("fashion_mnist", "tfds", "28x28 clothing images, 60k train / 10k test", False),
]
NOISE_LEVEL = 0.3
EVAL_MOST = 2000  # test images scored and kept as arrays


def _image_parts(request):
    """Unbatched ``(flat float image in [0, 1], label)`` datasets per split, and the image
    shape ``(H, W)`` (``(H, W, C)`` for several channels)."""
    if request.data is not None:
        from applications.formats.idx import read_images

        return _array_parts(read_images(request.data), request)
    if request.dataset.name in ("mnist", "fashion_mnist"):
        from applications.formats.cache import cached_images

        cached = cached_images(request.dataset.name)  # the user's Keras cache: no network
        if cached is not None:
            return _array_parts(cached, request)
    if request.dataset.name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = (digits.images / 16.0).astype("float32").reshape(len(digits.images), -1)
        pieces = data_layer.split_indices(len(images), (0.7, 0.15, 0.15), request.seed)
        parts = {key: data_layer.slices(images[index], digits.target[index].astype("int32"))
                 for key, index in zip(("train", "validation", "test"), pieces)}
        if request.limit is not None:
            parts = {key: ds.take(request.limit) for key, ds in parts.items()}
        return parts, (8, 8)
    splits = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}
    parts = data_layer.tfds_splits(request.dataset.name, splits, request.limit,
                                   request.data_dir, request.download, request.offline_hint)
    return {key: ds.map(data_layer.tfds_flat_image) for key, ds in parts.items()}, (28, 28)


def _array_parts(arrays, request):
    """``_image_parts`` of ``{"train": (images, labels), "test": (...)}`` arrays: the last
    10% of a seeded shuffle of the training images validate."""
    train_x, train_y = arrays["train"]
    test_x, test_y = arrays["test"]
    shape = tuple(train_x.shape[1:])
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]
    order = np.random.default_rng(request.seed).permutation(len(train_x))
    cut = len(order) - max(1, len(order) // 10)
    chosen = {"train": (train_x, train_y, order[:cut]),
              "validation": (train_x, train_y, order[cut:]),
              "test": (test_x, test_y, np.arange(len(test_x)))}
    parts = {}
    for key, (x, y, index) in chosen.items():
        index = index[:request.cap(len(index))]
        parts[key] = data_layer.slices(_unit_floats(x[index]).reshape(len(index), -1),
                                       np.asarray(y[index], "int32"))
    return parts, shape


def _unit_floats(images):
    """Images as float32 in [0, 1]: integers are divided by 255, floats kept unless they
    run past 1 (then divided by 255 too)."""
    images = np.asarray(images)
    if images.dtype.kind in "iu" or float(images.max(initial=0.0)) > 1.0:
        return (images / 255.0).astype("float32")
    return images.astype("float32")


def _layout(spec, shape):
    """Input shape and the build parameters that fix it, for this model's input kind."""
    height, width = shape[:2]
    channels = shape[2] if len(shape) > 2 else 1
    kinds = spec.capabilities.input_kinds
    if "images" in kinds:  # classifiers call it image_shape, autoencoders input_shape
        image = (height, width, channels)
        return image, {"image_shape": image, "input_shape": image}
    if "series" in kinds:
        return (height, width * channels), {"timesteps": height, "features": width * channels}
    return (height * width * channels,), {"input_dim": height * width * channels}


def _arrays(dataset, most=None):
    """NumPy ``(images, labels)`` from an unbatched ``(image, label)`` dataset."""
    if most is not None:
        dataset = dataset.take(most)
    pairs = list(dataset.as_numpy_iterator())
    if not pairs:
        return np.zeros((0,), "float32"), np.zeros((0,), "int32")
    return np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs], "int32")


def _load_images(request, metric, scorer, noisy_training=False, normal_filter=None,
                 task_params=None):
    parts, shape = _image_parts(request)
    input_shape, build = _layout(request.spec, shape)
    test_parts = parts["test"]
    if normal_filter is not None:
        parts = {key: (data_layer.with_known_size(ds.filter(normal_filter)) if key != "test"
                       else ds) for key, ds in parts.items()}

    def pairs(noisy):
        return data_layer.image_pairs(input_shape, NOISE_LEVEL if noisy else None)

    batch = request.batch_size
    pipelines = {key: data_layer.pipeline(ds.map(pairs(noisy_training and key == "train")),
                                          batch, shuffle=key == "train", seed=request.seed,
                                          size=2000)
                 for key, ds in parts.items()}
    x_test, labels_test = _arrays(test_parts, EVAL_MOST)
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides=build, metric=metric, higher_is_better=metric in ("roc_auc",
                                                                          "knn_accuracy"),
        scorer=scorer, task_params=dict(task_params or {}),
        info={"image_shape": list(shape), "input_shape": list(input_shape),
              "limit_per_split": request.limit},
        extras={"parts": parts, "shape": shape, "input_shape": input_shape,
                "x_test": x_test.reshape((-1,) + input_shape), "labels_test": labels_test},
    )


def _autoencoder_spec(spec):
    return bool({"vectors", "images", "series"} & set(spec.capabilities.input_kinds))


def _is_vae(spec):
    return spec.capabilities.variational


_AUTOENCODERS = dict(families=("autoencoder",), model_tasks=("reconstruction",),
                     accepts=_autoencoder_spec, requirement="an autoencoder",
                     datasets=IMAGE_DATASETS, file_formats=IMAGE_FILES)


def _predict(model, x):
    return np.asarray(model.predict(x, batch_size=256, verbose=0), "float32")


def _remember(data, model, key, value):
    """Keep what a scorer computed for the run's report (one predict per shape: on JAX
    every new batch shape is a new compilation)."""
    data.extras[key] = (weakref.ref(model), value)
    return value


def _recall(data, model, key, compute):
    ref, value = data.extras.get(key, (None, None))
    return value if ref is not None and ref() is model else compute()


def _errors(reconstructed, x):
    return np.square(reconstructed - x).reshape(len(x), -1).mean(axis=1)


def _images(array, shape):
    return np.asarray(array).reshape((-1,) + tuple(shape))


# --- reconstruction ----------------------------------------------------------------------------


def score_reconstruction(model, data):
    scores = scoring.keras_scores(model, data.test)
    x = data.extras["x_test"]
    reconstructed = _remember(data, model, "reconstructed", _predict(model, x))
    scores["mse"] = float(_errors(reconstructed, x).mean())
    return scores


def _one_per_class(labels, count=10):
    """Test indices: the first image of each class, then the next ones, ``count`` in all."""
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)][:count]
    rest = [i for i in range(len(labels)) if i not in firsts]
    return np.array(firsts + rest[:count - len(firsts)], "int64")


def report_reconstructions(model, data, out, seed):
    picks = _one_per_class(data.extras["labels_test"])
    x = data.extras["x_test"]
    reconstructed = _recall(data, model, "reconstructed", lambda: _predict(model, x))
    files = [plots.image_grid([("test images", _images(x[picks], data.extras["shape"])),
                               ("reconstructions", _images(reconstructed[picks],
                                                           data.extras["shape"]))],
                              out / "reconstructions.png")]
    if _is_vae(zoo.spec_of(model)):
        files.append(samples_plot(model, data, out / "samples.png", seed))
    return {"plots": files}


@register_task(
    "reconstruction",
    description="Rebuild images through an autoencoder's code: scikit-learn digits offline, "
                "mnist / fashion_mnist from tfds. Scored by test mean squared error; plots "
                "reconstructions (and samples for VAEs).",
    default_model="conv_autoencoder", default_epochs=20, reporter=report_reconstructions,
    **_AUTOENCODERS,
)
def load_reconstruction(request):
    return _load_images(request, "mse", score_reconstruction)


# --- denoising ---------------------------------------------------------------------------------


def _noisy(x, seed):
    noise = np.random.default_rng(seed).normal(0, NOISE_LEVEL, size=x.shape)
    return np.clip(x + noise, 0.0, 1.0).astype("float32")


def score_denoising(model, data):
    clean = data.extras["x_test"]
    noisy = _noisy(clean, seed=12345)
    both = _predict(model, np.concatenate([noisy, clean]))
    denoised = _remember(data, model, "denoised", both[:len(clean)])
    return {"mse": float(np.mean((denoised - clean) ** 2)),
            "noisy_input_mse": float(np.mean((noisy - clean) ** 2)),
            "clean_input_mse": float(_errors(both[len(clean):], clean).mean())}


def report_denoising(model, data, out, seed):
    picks = _one_per_class(data.extras["labels_test"])
    clean = data.extras["x_test"]
    noisy = _noisy(clean, seed=12345)
    denoised = _recall(data, model, "denoised", lambda: _predict(model, noisy))
    shape = data.extras["shape"]
    return {"plots": [plots.image_grid(
        [("clean", _images(clean[picks], shape)), (f"noisy (Gaussian, sd {NOISE_LEVEL})",
                                                   _images(noisy[picks], shape)),
         ("denoised", _images(denoised[picks], shape))], out / "denoising.png")]}


@register_task(
    "denoising",
    description="Remove Gaussian noise (sd 0.3): trained on (noisy, clean) pairs unless the "
                "model adds its own noise; scored by the test MSE between denoised and clean "
                "images (the noisy input's MSE is reported beside it).",
    default_model="denoising_autoencoder", default_epochs=20, reporter=report_denoising,
    **_AUTOENCODERS,
)
def load_denoising(request):
    own_noise = request.spec.capabilities.denoising
    data = _load_images(request, "mse", score_denoising, noisy_training=not own_noise)
    data.info["training_noise"] = "model's own" if own_noise else f"pipeline, sd {NOISE_LEVEL}"
    return data


# --- generation --------------------------------------------------------------------------------


def samples_plot(model, data, path, seed):
    """30 images drawn from a VAE's prior, three rows of ten, written to ``path``."""
    samples = zoo.sample(model, 30, seed=seed)
    shape = data.extras["shape"]
    rows = [(None if i else "samples from N(0, I)", _images(samples[i * 10:(i + 1) * 10], shape))
            for i in range(3)]
    return plots.image_grid(rows, path)


def score_generation(model, data):
    return score_reconstruction(model, data)


def report_generation(model, data, out, seed):
    return report_reconstructions(model, data, out, seed)


@register_task(
    "generation",
    description="Train a variational autoencoder and draw new images from its prior: "
                "scored by the test loss (reconstruction + beta * KL, lower is better); "
                "plots samples and reconstructions.",
    default_model="vae", default_epochs=30, reporter=report_generation,
    families=("autoencoder",), model_tasks=("reconstruction",),
    accepts=lambda spec: _autoencoder_spec(spec) and _is_vae(spec),
    requirement="a variational autoencoder", datasets=IMAGE_DATASETS, file_formats=IMAGE_FILES,
)
def load_generation(request):
    return _load_images(request, "loss", score_generation, task_params={"code_size": 8})


# --- anomaly detection ------------------------------------------------------------------------

ANOMALY_CLASS = 0
THRESHOLD_QUANTILE = 0.95


def score_anomaly(model, data):
    x, labels = data.extras["x_test"], data.extras["labels_test"]
    if "x_validation" not in data.extras:
        x_val, _ = _arrays(data.extras["parts"]["validation"], EVAL_MOST)
        data.extras["x_validation"] = x_val.reshape((-1,) + data.extras["input_shape"])
    x_val = data.extras["x_validation"]
    both = _predict(model, np.concatenate([x, x_val]))
    reconstructed = _remember(data, model, "reconstructed", both[:len(x)])
    scores, normal = _errors(reconstructed, x), _errors(both[len(x):], x_val)
    data.extras["validation_scores"] = normal
    threshold = float(np.quantile(normal, THRESHOLD_QUANTILE)) if len(normal) else 0.0
    anomalous = labels == ANOMALY_CLASS
    result = scoring.binary_scores(anomalous, scores, threshold)
    result["normal_test_mse"] = float(scores[~anomalous].mean()) if (~anomalous).any() else 0.0
    result["anomalous_test_mse"] = float(scores[anomalous].mean()) if anomalous.any() else 0.0
    data.extras["test_scores"] = scores
    return result


def report_anomaly(model, data, out, seed):
    if data.extras.get("series"):
        return {"threshold_quantile": THRESHOLD_QUANTILE}
    scores, labels = data.extras["test_scores"], data.extras["labels_test"]
    anomalous = labels == ANOMALY_CLASS
    threshold = float(np.quantile(data.extras["validation_scores"], THRESHOLD_QUANTILE))
    shape = data.extras["shape"]
    x = data.extras["x_test"]
    picks = np.concatenate([np.flatnonzero(~anomalous)[:5], np.flatnonzero(anomalous)[:5]])
    return {"plots": [
        plots.score_histogram(scores[~anomalous], scores[anomalous], threshold,
                              out / "anomaly_scores.png",
                              labels=(f"normal (not {ANOMALY_CLASS})",
                                      f"anomalous (class {ANOMALY_CLASS})")),
        plots.image_grid([("test images (5 normal, 5 anomalous)", _images(x[picks], shape)),
                          ("reconstructions", _images(_recall(
                              data, model, "reconstructed", lambda: _predict(model, x))[picks],
                              shape))],
                         out / "reconstructions.png")],
        "anomaly_class": ANOMALY_CLASS, "threshold_quantile": THRESHOLD_QUANTILE}


SERIES_FILES = ("; or a CSV time series (--value-column, default value; an optional 0/1 "
                "--label-column marking anomalous points; --window N values per example)")


@register_task(
    "anomaly",
    description=f"Anomaly detection from reconstruction error: train on every class but "
                f"{ANOMALY_CLASS}, score test images by reconstruction MSE, flag those above "
                f"the {THRESHOLD_QUANTILE:.0%} quantile of validation scores. Scored by ROC-AUC "
                "(precision, recall and F1 at the threshold beside it). A CSV series is cut "
                "into windows: the first 60% (normal windows only) trains, the next 20% "
                "validates, the last 20% tests.",
    default_model="conv_autoencoder", default_epochs=20, reporter=report_anomaly,
    **{**_AUTOENCODERS, "file_formats": IMAGE_FILES + SERIES_FILES},
)
def load_anomaly(request):
    if request.data is not None and pathlib.Path(request.data).suffix.lower() in (".csv",
                                                                                  ".tsv"):
        return _series_anomaly(request)
    data = _load_images(request, "roc_auc", score_anomaly,
                        normal_filter=lambda image, label: label != ANOMALY_CLASS,
                        task_params={"code_size": 8})
    data.info.update(anomaly_class=ANOMALY_CLASS, threshold_quantile=THRESHOLD_QUANTILE)
    return data


def _read_series(request):
    from applications.formats.errors import DataFormatError
    from applications.formats.tables import read_series

    options = request.options
    column = options["label_column"]
    try:
        return read_series(request.data, value_column=options["value_column"],
                           label_column=column)
    except DataFormatError as error:
        if "label_column" in options["given"] or error.field != column:
            raise
    return read_series(request.data, value_column=options["value_column"], label_column=None)


def _windows(values, length, stride):
    starts = np.arange(0, len(values) - length + 1, stride)
    return np.stack([values[i:i + length] for i in starts]), starts


def _series_anomaly(request):
    """Windows of a user's CSV series; see the task's description."""
    from applications.formats.errors import format_error

    if "images" in request.spec.capabilities.input_kinds:
        raise ValueError(f"A CSV series needs a vector or sequence autoencoder (e.g. "
                         f"dense_autoencoder, lstm_autoencoder), not an image one. "
                         f"Received: model={request.spec.name!r}")
    records = _read_series(request)
    values = np.asarray(records.items, "float32")
    flags = None if records.labels is None else np.asarray(records.labels, bool)
    length = request.options["window"]
    stride = max(1, length // 4)
    if len(values) < 5 * length:
        raise format_error(request.data, f"holds {len(values)} values: too few for windows "
                           f"of {length} (at least {5 * length} needed); lower --window",
                           received=f"window={length}")
    cut_a, cut_b = int(0.6 * len(values)), int(0.8 * len(values))
    mean, scale = values[:cut_a].mean(), values[:cut_a].std() or 1.0
    scaled = (values - mean) / scale
    parts, anomalous = {}, {}
    for key, (a, b) in {"train": (0, cut_a), "validation": (cut_a, cut_b),
                        "test": (cut_b, len(values))}.items():
        windows, starts = _windows(scaled[a:b], length, stride if key != "test" else 1)
        marks = (np.zeros(len(windows), bool) if flags is None else
                 np.array([flags[a + i:a + i + length].any() for i in starts]))
        if key != "test":
            windows, marks = windows[~marks], marks[~marks]
        windows = windows[:request.cap(len(windows))]
        parts[key], anomalous[key] = windows, marks[:len(windows)]
    input_shape, build = ((length, 1), {"timesteps": length, "features": 1}) if (
        "series" in request.spec.capabilities.input_kinds) else ((length,), {"input_dim": length})
    pipelines = {key: data_layer.from_arrays(x.reshape((-1,) + input_shape),
                                             x.reshape((-1,) + input_shape),
                                             request.batch_size, shuffle=key == "train",
                                             seed=request.seed)
                 for key, x in parts.items()}
    labelled = flags is not None and 0 < anomalous["test"].sum() < len(anomalous["test"])
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides=build, metric="roc_auc" if labelled else "mse",
        higher_is_better=labelled, scorer=score_series_anomaly,
        task_params={"code_size": 8},
        info={"values": int(len(values)), "window": length, "stride": stride,
              "windows": {key: int(len(x)) for key, x in parts.items()},
              "labelled": bool(labelled), "threshold_quantile": THRESHOLD_QUANTILE},
        extras={"x_test": parts["test"].reshape((-1,) + input_shape),
                "x_validation": parts["validation"].reshape((-1,) + input_shape),
                "anomalous_test": anomalous["test"], "series": True})


def score_series_anomaly(model, data):
    """Window reconstruction MSE; ROC-AUC etc. when the series marks its anomalies."""
    x, x_val = data.extras["x_test"], data.extras["x_validation"]
    both = _predict(model, np.concatenate([x, x_val]))
    scores, normal = _errors(both[:len(x)], x), _errors(both[len(x):], x_val)
    threshold = float(np.quantile(normal, THRESHOLD_QUANTILE)) if len(normal) else 0.0
    result = {"mse": float(scores.mean()), "threshold": threshold,
              "flagged": float((scores > threshold).mean())}
    if data.metric == "roc_auc":
        result.update(scoring.binary_scores(data.extras["anomalous_test"], scores, threshold))
    return result


# --- dimensionality reduction -----------------------------------------------------------------

KNN_TRAIN_MOST = 10000


def _codes(model, x):
    codes = np.asarray(zoo.encoder(model).predict(x, batch_size=256, verbose=0))
    return codes.reshape(len(x), -1)


def score_dim_reduction(model, data):
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    shape_in = data.extras["input_shape"]
    if "train_arrays" not in data.extras:
        x_train, y_train = _arrays(data.extras["parts"]["train"], KNN_TRAIN_MOST)
        data.extras["train_arrays"] = (x_train.reshape((-1,) + shape_in), y_train)
    x_train, y_train = data.extras["train_arrays"]
    x_test, y_test = data.extras["x_test"], data.extras["labels_test"]
    codes_train, codes_test = _codes(model, x_train), _codes(model, x_test)
    size = codes_test.shape[1]
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    pca = PCA(n_components=min(size, *flat_train.shape)).fit(flat_train)
    pca_train, pca_test = pca.transform(flat_train), pca.transform(flat_test)
    neighbours = min(5, len(x_train))

    def knn(train, test):
        return float(KNeighborsClassifier(neighbours).fit(train, y_train).score(test, y_test))

    data.extras["codes_test"], data.extras["pca_test"] = codes_test, pca_test
    reconstruction = pca.inverse_transform(pca_test)
    data.extras["knn"] = (knn(codes_train, codes_test), knn(pca_train, pca_test))
    return {"knn_accuracy": data.extras["knn"][0], "pca_knn_accuracy": data.extras["knn"][1],
            "mse": float(_errors(_predict(model, x_test), x_test).mean()),
            "pca_mse": float(np.mean((reconstruction - flat_test) ** 2)),
            "code_size": int(size)}


def report_dim_reduction(model, data, out, seed):
    codes, pca, labels = (data.extras[k] for k in ("codes_test", "pca_test", "labels_test"))
    note = "" if codes.shape[1] == 2 else " (first 2 PCA axes of the codes)"
    if codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        codes = PCA(2).fit_transform(codes)
    ours, theirs = data.extras["knn"]
    return {"plots": [plots.latent_scatter(
        [(f"{model.zoo_name} codes{note}\n5-NN label accuracy {ours:.2f}", codes[:, :2], labels),
         (f"PCA, {pca.shape[1]} components\n5-NN label accuracy {theirs:.2f}", pca[:, :2],
          labels)],
        out / "latent_scatter.png")]}


@register_task(
    "dim_reduction",
    description="Dimensionality reduction: the encoder's codes (2-D by default) against PCA "
                "with as many components; scored by 5-nearest-neighbour label accuracy on "
                "the codes (PCA's accuracy and both reconstruction errors beside it); plots "
                "a 2-D scatter coloured by label.",
    default_model="dense_autoencoder", default_epochs=40, reporter=report_dim_reduction,
    **_AUTOENCODERS,
)
def load_dim_reduction(request):
    return _load_images(request, "knn_accuracy", score_dim_reduction,
                        task_params={"code_size": 2, "code_activation": None,
                                     "hidden_units": (128, 64)})


# --- image classification ---------------------------------------------------------------------


def _image_classifier_spec(spec):
    return "images" in spec.capabilities.input_kinds


@register_task(
    "image_classification",
    description="Classify images: scikit-learn digits offline, mnist / fashion_mnist from "
                "the Keras cache or tfds, or your own IDX / .npz files. Scored by test "
                "accuracy.",
    families=("classifier",), model_tasks=("classification",),
    accepts=_image_classifier_spec, requirement="an image classifier",
    default_model="cnn2d_classifier", default_epochs=10, datasets=IMAGE_DATASETS,
    file_formats=IMAGE_FILES,
)
def load_image_classification(request):
    parts, shape = _image_parts(request)
    input_shape, build = _layout(request.spec, shape)
    size, largest = data_layer.label_stats(parts["train"])
    classes = largest + 1
    if classes < 2:
        raise ValueError("image_classification needs at least two classes in the training "
                         f"images. Received: {classes} class")

    def to_pair(image, label):
        return data_layer.reshaped(image, input_shape), label

    label_fn = data_layer.binary_label_batch if classes == 2 else None
    pipelines = {key: data_layer.pipeline(ds.map(to_pair), request.batch_size,
                                          shuffle=key == "train", seed=request.seed,
                                          size=size, label_fn=label_fn)
                 for key, ds in parts.items()}
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides={**build, "num_classes": classes}, metric="accuracy",
        higher_is_better=True, scorer=scoring.classification,
        info={"image_shape": list(shape), "input_shape": list(input_shape),
              "classes": classes, "train_size": size,
              "limit_per_split": request.limit})
