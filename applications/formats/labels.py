"""Turn the labels of read records into class ids, and split one file into three.

>>> from applications.formats.text import Records
>>> train = Records("train.csv", ["a", "b", "c"], ["10", "2", "10"], [2, 3, 4])
>>> test = Records("test.csv", ["d"], ["2"], [2])
>>> vocabulary, train_ids, (test_ids,) = index_labels(train, [test])
>>> vocabulary, train_ids.tolist(), test_ids.tolist()
(['2', '10'], [1, 0, 1], [0])
>>> [len(part) for part in split_records(Records("all.csv", list("abcdefghij"),
...                                              list("xyxyxyxyxy"), list(range(10))))]
[8, 1, 1]
"""

import collections
import dataclasses
import math
import re

import numpy as np

from applications.formats.errors import format_error
from applications.formats.text import Records
from zoo.untrusted import quoted

__all__ = ["Records", "index_labels", "label_order", "split_records"]

_INTEGER = re.compile(r"[+-]?\d+")


def _label_key(label):
    text = str(label)
    if _INTEGER.fullmatch(text.strip()):
        return (0, int(text), text)
    return (1, 0, text)


def label_order(labels):
    """The distinct ``labels`` in class-id order: labels that look like integers first, as
    numbers (``"2"`` before ``"10"``), then the others as text.

    >>> label_order(["b", "10", "2", "a", "2"])
    ['2', '10', 'a', 'b']
    """
    return sorted(set(labels), key=_label_key)


def _per_token(records):
    labels = records.labels
    return labels is not None and len(labels) > 0 and isinstance(labels[0], (list, tuple))


def _flat(records):
    if _per_token(records):
        return [tag for tags in records.labels for tag in tags]
    return list(records.labels)


def _check_labelled(records):
    if not isinstance(records, Records):
        raise TypeError(f"expected a Records. Received: {quoted(type(records).__name__)}")
    if records.labels is None:
        raise ValueError(f"{records.path} has no labels to index. "
                         f"Received: labels=None")


def index_labels(train, others=()):
    """The label vocabulary of ``train`` and every split's labels as class ids.

    The vocabulary is the training labels, sorted; labels that look like
    integers sort as numbers (``"2"`` before ``"10"``), before other labels.
    Per-token labels (lists of tags per item) are flattened for the
    vocabulary and given back as one id array per item.

    Args:
        train: the training ``Records``.
        others: more ``Records`` (validation, test) to index with the
            training vocabulary.

    Returns:
        ``(vocabulary, train_ids, other_ids)``: the label list, an int32
        array of ``train``'s ids (per-token: a list of int32 arrays) and a
        list of the same for each of ``others``.

    Raises:
        DataFormatError: the training data has one class only, or another
            split has a label the training data never has (naming that
            file, line and label).
        ValueError: records without labels.
    """
    _check_labelled(train)
    vocabulary = label_order(_flat(train))
    if len(vocabulary) < 2:
        only = vocabulary[0] if vocabulary else ""
        raise format_error(train.path, f"needs at least two classes to train on, but every "
                           f"label in the training data is {quoted(only)}",
                           received=quoted(only))
    ids_of = {label: index for index, label in enumerate(vocabulary)}

    def convert(records):
        _check_labelled(records)
        per_token = _per_token(records)
        converted = []
        for labels, line in zip(records.labels, records.lines):
            for label in (labels if per_token else (labels,)):
                if label not in ids_of:
                    known = ", ".join(quoted(name, 40) for name in vocabulary[:10])
                    more = " ..." if len(vocabulary) > 10 else ""
                    raise format_error(records.path, f"label {quoted(label)} never appears in "
                                       f"the training data ({train.path}, whose labels are "
                                       f"{known}{more})", line=line, received=quoted(label))
            if per_token:
                converted.append(np.asarray([ids_of[label] for label in labels], np.int32))
            else:
                converted.append(ids_of[labels])
        return converted if per_token else np.asarray(converted, np.int32)

    return vocabulary, convert(train), [convert(records) for records in others]


def _take(records, order):
    def pick(values):
        if values is None:
            return None
        if isinstance(values, np.ndarray):
            return values[order]
        return [values[index] for index in order]

    return dataclasses.replace(records, items=pick(records.items), labels=pick(records.labels),
                               lines=[records.lines[index] for index in order])


def _train_on_every_label(labels, groups):
    """Swap examples so every label of ``groups[1:]`` is in ``groups[0]`` where possible.

    An example with a label training lacks trades places with a training
    example whose label training has twice or more; sizes do not change.
    """
    counts = collections.Counter(labels[index] for index in groups[0])
    for group in groups[1:]:
        for position, index in enumerate(group):
            if counts[labels[index]]:
                continue
            spare = next((at for at, other in enumerate(groups[0])
                          if counts[labels[other]] > 1), None)
            if spare is None:
                return
            other = groups[0][spare]
            groups[0][spare], group[position] = index, other
            counts[labels[other]] -= 1
            counts[labels[index]] += 1


def split_records(records, fractions=(0.8, 0.1, 0.1), seed=0):
    """Shuffle one file's records and split them into training, validation (and test).

    Each part gets at least one example. For single labels per item, an
    example whose label would be missing from the training part swaps
    places with a training example of a label training has more of (where
    there is one), so ``index_labels`` accepts the parts.

    Args:
        records: the ``Records`` of one file.
        fractions: two or more positive fractions summing to 1, training
            first (default 80/10/10: training, validation, test).
        seed: seeds ``numpy.random.default_rng`` for the shuffle.

    Returns:
        A tuple of ``Records`` like ``records``, one per fraction, each item
        keeping its source line.

    Raises:
        ValueError: ``fractions`` is not two or more positive numbers
            summing to 1.
        DataFormatError: fewer examples than parts (3 for the default).
    """
    try:
        parts = [float(fraction) for fraction in fractions]
    except (TypeError, ValueError):
        parts = []
    if (len(parts) < 2 or not all(math.isfinite(part) and part > 0 for part in parts)
            or abs(sum(parts) - 1) > 1e-6):
        raise ValueError(f"fractions must be two or more positive numbers that sum to 1 "
                         f"(training first). Received: fractions={quoted(fractions)}")
    count, needed = len(records.lines), len(parts)
    if count < needed:
        names = ("training, validation and test" if needed == 3 else
                 "training and validation" if needed == 2 else f"{needed} parts")
        raise format_error(records.path, f"holds {count} example{'s' * (count != 1)}; "
                           f"splitting it into {names} needs at least {needed}",
                           received=quoted(count))
    sizes = [max(1, round(count * part)) for part in parts[1:]]
    while count - sum(sizes) < 1:
        sizes[sizes.index(max(sizes))] -= 1
    order = np.random.default_rng(seed).permutation(count).tolist()
    bounds = np.cumsum([count - sum(sizes), *sizes]).tolist()
    groups = [order[start:stop] for start, stop in zip([0, *bounds[:-1]], bounds)]
    if records.labels is not None and not _per_token(records):
        _train_on_every_label(records.labels, groups)
    return tuple(_take(records, group) for group in groups)
