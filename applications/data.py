"""The data layer: tf.data pipelines, tensorflow-datasets loading, text vectorisation.

This is the only place the applications import TensorFlow, and only for
data: every pipeline here yields NumPy-convertible batches that Keras feeds
to a model on any backend (TensorFlow, JAX or torch).
"""

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from applications.errors import DatasetUnavailableError  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE


# --- pipelines --------------------------------------------------------------------------------


def pipeline(dataset, batch_size, shuffle=False, seed=0, size=None, drop_remainder=False,
             label_fn=None):
    """Shuffle (each epoch, seeded), batch and prefetch a ``tf.data.Dataset`` of
    ``(x, y)``; ``label_fn`` maps each batch's ``y``."""
    if shuffle:
        buffer = size if size is not None else 10_000
        dataset = dataset.shuffle(max(int(buffer), 1), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if label_fn is not None:
        dataset = dataset.map(lambda x, y: (x, label_fn(y)), num_parallel_calls=AUTOTUNE)
    return dataset.prefetch(AUTOTUNE)


def from_arrays(x, y, batch_size, shuffle=False, seed=0):
    """A batched, prefetched dataset of ``(x, y)`` from NumPy arrays (or dicts of them).

    Training sets (``shuffle=True``) drop a last partial batch when there is
    more than one batch, so every step has one shape (one compilation on JAX).
    """
    first = next(iter(x.values())) if isinstance(x, dict) else x
    size = len(first)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    return pipeline(dataset, batch_size, shuffle=shuffle, seed=seed, size=size,
                    drop_remainder=shuffle and size > batch_size)


def with_known_size(dataset):
    """``dataset`` with its cardinality stated (counted once when a filter hid it), so
    Keras knows the steps per epoch."""
    if int(dataset.cardinality()) >= 0:
        return dataset
    count = int(dataset.reduce(np.int64(0), lambda total, *_: total + 1))
    return dataset.apply(tf.data.experimental.assert_cardinality(count))


def to_numpy(dataset):
    """All ``(x, y)`` batches of a finite dataset, concatenated into NumPy arrays."""
    xs, ys = [], []
    for x, y in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        return None, None
    if isinstance(xs[0], dict):
        x = {key: np.concatenate([batch[key] for batch in xs]) for key in xs[0]}
    else:
        x = np.concatenate(xs)
    return x, np.concatenate(ys)


def split_indices(n, fractions, seed):
    """Shuffled index arrays for consecutive splits with the given ``fractions``."""
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + [int(round(f * n)) for f in fractions[:-1]])
    pieces = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return pieces + [order[bounds[-1]:]]


# --- tensorflow-datasets ----------------------------------------------------------------------


def load_tfds(name, split, data_dir=None, download=True, offline_hint=""):
    """``tfds.load(name, split=split)`` with a plain error when it cannot be had.

    Raises:
        DatasetUnavailableError: the dataset is neither in ``data_dir`` (or
            the default tfds directory) nor downloadable; the message names
            the offline default and the ``data_dir`` option.
    """
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, split=split, data_dir=data_dir, download=download,
                         shuffle_files=False)
    except Exception as error:  # tfds raises many kinds: network, missing files, asserts
        where = data_dir or "the default tensorflow-datasets directory (~/tensorflow_datasets)"
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        reason = reason.rstrip(". ")
        raise DatasetUnavailableError(
            f"Could not load the tensorflow-datasets dataset {name!r} (split {split!r}) from "
            f"{where}{'' if download else ' with downloads turned off'}: {reason}. "
            f"Without network access use the offline default{offline_hint}, or point "
            f"--data-dir at a directory that already holds a prepared copy "
            f"(`tfds build {name.split('/')[0]}` on a machine with network). "
            f"Received: dataset={name!r}"
        ) from error


def tfds_splits(name, splits, limit=None, data_dir=None, download=True, offline_hint=""):
    """Train/validation/test ``tf.data`` splits of a tfds dataset, each cut to ``limit``.

    Args:
        splits: ``{"train": ..., "validation": ..., "test": ...}`` tfds split
            strings (slices such as ``"train[:90%]"`` carve a missing split).
        limit: most examples per split (``None``: all).
    """
    result = {}
    for key, split in splits.items():
        dataset = load_tfds(name, split, data_dir, download, offline_hint)
        result[key] = dataset if limit is None else dataset.take(limit)
    return result


# --- text -------------------------------------------------------------------------------------


def text_vectorizer(texts, max_tokens, sequence_length=None, split="whitespace",
                    standardize="lower_and_strip_punctuation"):
    """A Keras ``TextVectorization`` adapted on ``texts`` (a string dataset or list).

    Ids: 0 padding, 1 out-of-vocabulary, then words by frequency.
    """
    import keras

    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=sequence_length, split=split,
        standardize=standardize, output_mode="int")
    if not isinstance(texts, tf.data.Dataset):
        texts = tf.data.Dataset.from_tensor_slices(np.asarray(texts, dtype=object).astype(str))
    layer.adapt(texts.batch(256))
    return layer


def fixed_vectorizer(vocabulary, sequence_length=None, split="whitespace",
                     standardize="lower_and_strip_punctuation"):
    """A ``TextVectorization`` over a given vocabulary (``get_vocabulary()``'s list:
    padding and out-of-vocabulary first), as ``text_vectorizer`` makes them."""
    import keras

    words = [str(word) for word in vocabulary]
    if words[:2] == ["", "[UNK]"]:
        words = words[2:]
    return keras.layers.TextVectorization(
        vocabulary=words, output_sequence_length=sequence_length, split=split,
        standardize=standardize, output_mode="int")


def vectorize_dataset(dataset, vectorizer, batch_size, shuffle=False, seed=0, size=None,
                      label_fn=None):
    """Map ``(text, label)`` pairs through ``vectorizer``; batched and prefetched."""
    def to_ids(text, label):
        ids = tf.cast(vectorizer(text), "int32")
        return ids, (label_fn(label) if label_fn else label)

    batched = pipeline(dataset, batch_size, shuffle=shuffle, seed=seed, size=size,
                       drop_remainder=False)
    return batched.map(to_ids, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def text_dataset(texts, labels):
    return tf.data.Dataset.from_tensor_slices(
        (np.asarray(texts, dtype=object).astype(str), np.asarray(labels)))


def strings(dataset_or_tensor):
    """Python strings from a tf string tensor / NumPy bytes array."""
    values = np.asarray(dataset_or_tensor).reshape(-1)
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def teacher_forcing_ids(target_ids, start_token, end_token, offset):
    """TF version of ``zoo.seq2seq.teacher_forcing`` for vectorised target text.

    ``target_ids`` ``[T]`` (0 padding) become decoder input ``[start, ids + offset]``
    and target ``[ids + offset, end]``: ids are shifted up by ``offset`` so the
    start and end ids stay free.
    """
    ids = tf.cast(target_ids, "int32")
    body = tf.where(ids > 0, ids + offset, 0)
    length = tf.math.count_nonzero(ids, dtype="int32")
    decoder_input = tf.concat([[start_token], body], axis=0)
    target = tf.concat([body, [0]], axis=0)
    target = target + end_token * tf.one_hot(length, tf.shape(target)[0], dtype="int32")
    return decoder_input, target


def from_generator_batches(batches, labels):
    """A dataset of pre-built (already batched) ``(x_dict, y)`` elements of equal shapes.

    Each stacked element gets a leading axis of 1 (one graph batch per step).
    """
    x = {key: np.stack([b[key] for b in batches]) for key in batches[0]}
    y = np.stack(labels)
    return tf.data.Dataset.from_tensor_slices((x, y))


def shuffled_repeat(dataset, size, repeats, seed, shuffle=True):
    if shuffle:
        dataset = dataset.shuffle(max(size, 1), seed=seed, reshuffle_each_iteration=True)
    if repeats > 1:
        dataset = dataset.repeat(repeats)
    return dataset.batch(1).prefetch(AUTOTUNE)


# --- per-task element maps (kept here so TensorFlow stays in this module) ---------------------


def slices(*arrays):
    """An unbatched dataset over the first axis of ``arrays``."""
    return tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0])


def tfds_flat_image(example):
    """A tfds ``{"image": uint8 [H, W, C], "label"}`` example -> (flat float32 in [0, 1], label)."""
    image = tf.cast(tf.reshape(example["image"], [-1]), "float32") / 255.0
    return image, tf.cast(example["label"], "int32")


def image_pairs(input_shape, noise_level=None):
    """Map ``(flat image, label)`` -> ``(input, target)`` in the model's layout; with a
    ``noise_level`` the input gets fresh Gaussian noise each epoch (clipped to [0, 1])."""
    def to_pair(image, label):
        clean = tf.reshape(image, input_shape)
        if noise_level is None:
            return clean, clean
        corrupted = clean + tf.random.normal(tf.shape(clean), stddev=noise_level)
        return tf.clip_by_value(corrupted, 0.0, 1.0), clean
    return to_pair


def label_stats(dataset):
    """``(examples, largest label)`` of an unbatched ``(x, label)`` dataset, in one pass."""
    def step(state, label):
        return state[0] + 1, tf.maximum(state[1], tf.cast(label, "int64"))

    labels = dataset.map(lambda x, label: label)
    count, largest = labels.reduce((np.int64(0), np.int64(-1)), step)
    return int(count), int(largest)


def reshaped(tensor, shape):
    return tf.reshape(tensor, shape)


def binary_label_batch(label):
    """A batch of 0/1 labels as float32 ``[batch, 1]`` (a one-unit sigmoid head)."""
    return tf.reshape(tf.cast(label, "float32"), [-1, 1])


def tagged_sentence(tokens_key, tags_key, length):
    """Map a tfds tagging example -> (space-joined tokens, tags + 1 padded to ``length``).

    Tags past the tokens are dropped, so 0 stays padding.
    """
    def to_pair(example):
        tokens, tags = example[tokens_key], tf.cast(example[tags_key], "int32") + 1
        count = tf.minimum(tf.minimum(tf.shape(tokens)[0], tf.shape(tags)[0]), length)
        tags = tf.ensure_shape(tf.pad(tags[:count], [[0, length - count]]), [length])
        return tf.strings.reduce_join(tokens[:count], separator=" "), tags
    return to_pair


def text_pairs(source_key, target_key):
    return lambda example: (example[source_key], example[target_key])


def first(pair_dataset):
    return pair_dataset.map(lambda a, b: a)


def second(pair_dataset):
    return pair_dataset.map(lambda a, b: b)


def translation_encoder(source_vectorizer, target_vectorizer, start_token, end_token, offset):
    """Map (source text, target text) -> ({"source_tokens", "target_tokens"}, targets)."""
    def encode(source, target):
        decoder_input, labels = teacher_forcing_ids(target_vectorizer(target), start_token,
                                                    end_token, offset)
        return {"source_tokens": tf.cast(source_vectorizer(source), "int32"),
                "target_tokens": decoder_input}, labels
    return encode


def char_chunks(text, vectorizer, length):
    """Consecutive ``length + 1`` character windows of ``text`` as an int32 array
    ``[windows, length + 1]`` (ids from ``vectorizer``)."""
    ids = np.asarray(vectorizer(tf.constant(text))).reshape(-1).astype("int32")
    windows = len(ids) // (length + 1)
    return ids[:windows * (length + 1)].reshape(windows, length + 1)


def character_vectorizer(text, max_tokens=200):
    """``TextVectorization`` over single characters (no standardisation), adapted on ``text``."""
    return text_vectorizer(tf.data.Dataset.from_tensors(tf.constant(text)), max_tokens,
                           split="character", standardize=None)


def joined_text(dataset, key, separator="\n"):
    """One Python string from the ``key`` texts of every example of a tfds dataset."""
    return separator.join(strings([example[key] for example in dataset.as_numpy_iterator()]))
