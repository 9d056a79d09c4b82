"""Sequence-to-sequence tasks: ``reversal`` and ``translation``.

Generated character tasks (digit reversal, addition, date normalisation)
run offline; ``ted_hrlr_translate/pt_to_en`` comes from tensorflow-datasets
and is vectorised word by word with Keras' ``TextVectorization``.
"""

import numpy as np

from applications import data as data_layer
from applications import generated
from applications.tasks import scoring
from applications.tasks.base import DatasetInfo, TaskData, register_task

# name -> (generator f(n, seed, exclude) -> (x, y, sources, targets), vocabulary, sizes)
CHAR_TASKS = {
    "reversal": (generated.digit_reversal, generated.DIGITS, (10000, 500, 500)),
    "addition": (generated.digit_addition, generated.ARITHMETIC, (10000, 500, 500)),
    "dates": (generated.date_normalisation, generated.DATES, (10000, 500, 500)),
}
TRANSLATION_SETS = {
    # tfds name -> (source key, target key, splits)
    "ted_hrlr_translate/pt_to_en": ("pt", "en", {"train": "train", "validation": "validation",
                                                 "test": "test"}),
}


def _char_data(request, name):
    generator, vocab, sizes = CHAR_TASKS[name]
    sizes = [request.cap(n) for n in sizes]
    seed = request.seed
    x_train, y_train, train_sources, _ = generator(sizes[0], seed=seed + 1)
    x_val, y_val, val_sources, _ = generator(sizes[1], seed=seed + 2, exclude=train_sources)
    x_test, y_test, _, _ = generator(sizes[2], seed=seed + 3,
                                     exclude=set(train_sources) | set(val_sources))
    longest = max(a.shape[1] for a in (x_train["source_tokens"], x_val["source_tokens"],
                                       x_test["source_tokens"]))
    target_longest = max(a.shape[1] for a in (y_train, y_val, y_test))
    x_train, x_val, x_test = (_pad_x(x, longest, target_longest)
                              for x in (x_train, x_val, x_test))
    y_train, y_val, y_test = (_pad(y, target_longest) for y in (y_train, y_val, y_test))
    batch = request.batch_size
    build = {"source_vocab_size": vocab.size, "target_vocab_size": vocab.size,
             "start_token": generated.START, "end_token": generated.END,
             "max_source_length": longest, "max_target_length": target_longest + 1}
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=name,
        train=data_layer.from_arrays(x_train, y_train, batch, shuffle=True, seed=seed),
        validation=data_layer.from_arrays(x_val, y_val, batch),
        test=data_layer.from_arrays(x_test, y_test, batch),
        build_overrides=build, metric="exact_match", higher_is_better=True,
        scorer=scoring.sequence_to_sequence,
        info={"train_size": sizes[0], "validation_size": sizes[1], "test_size": sizes[2],
              "vocabulary": vocab.alphabet},
        extras={"decode_source": vocab.decode, "decode_target": vocab.decode,
                "test_arrays": (x_test, y_test)},
    )


def _pad(array, width):
    return np.pad(array, [(0, 0), (0, width - array.shape[1])])


def _pad_x(x, source_width, target_width):
    return {"source_tokens": _pad(x["source_tokens"], source_width),
            "target_tokens": _pad(x["target_tokens"], target_width)}


class WordDecoder:
    """Token ids -> text with a ``TextVectorization`` vocabulary (ids shifted by ``offset``)."""

    def __init__(self, vocabulary, offset=0, stop=(0,)):
        self.vocabulary = list(vocabulary)
        self.offset = offset
        self.stop = set(stop)

    def __call__(self, tokens):
        texts = []
        for row in np.asarray(tokens):
            words = []
            for token in row:
                if int(token) in self.stop:
                    break
                index = int(token) - self.offset
                if 0 < index < len(self.vocabulary):
                    words.append(self.vocabulary[index])
            texts.append(" ".join(words))
        return texts


def _tfds_translation(request, name):
    source_key, target_key, splits = TRANSLATION_SETS[name]
    parts = data_layer.tfds_splits(name, splits, request.limit, request.data_dir,
                                   request.download, request.offline_hint)
    pairs = {key: ds.map(data_layer.text_pairs(source_key, target_key))
             for key, ds in parts.items()}
    return _word_translation(request, name, pairs)


def _file_translation(request):
    """Tab-separated sentence pairs (the Anki/Tatoeba ``fra.txt`` format)."""
    from applications.formats.text import read_sentence_pairs
    from applications.tasks import user_files

    records = user_files.read_splits(request.data, read_sentence_pairs, (".txt", ".tsv"),
                                     request.seed)
    records = {key: user_files.cap(value, request.limit) for key, value in records.items()}
    pairs = {key: data_layer.text_dataset(value.items, value.labels)
             for key, value in records.items()}
    data = _word_translation(request, request.dataset.name, pairs)
    data.info.update({f"{key}_pairs": len(value.items) for key, value in records.items()})
    return data


def _word_translation(request, name, pairs, max_tokens=8000, source_length=40,
                      target_length=40):
    """Word-level translation data from ``{split: dataset of (source, target) text}``."""
    source_vec = data_layer.text_vectorizer(data_layer.first(pairs["train"]), max_tokens,
                                            source_length)
    target_vec = data_layer.text_vectorizer(data_layer.second(pairs["train"]), max_tokens,
                                            target_length)
    start, end, offset = generated.START, generated.END, 2
    encode = data_layer.translation_encoder(source_vec, target_vec, start, end, offset)
    batch = request.batch_size

    def pipeline(key, shuffle=False):
        return data_layer.pipeline(pairs[key].map(encode), batch, shuffle=shuffle,
                                   seed=request.seed)

    target_vocab = target_vec.get_vocabulary()
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=name,
        train=pipeline("train", shuffle=True), validation=pipeline("validation"),
        test=pipeline("test"),
        build_overrides={"source_vocab_size": source_vec.vocabulary_size(),
                         "target_vocab_size": len(target_vocab) + offset,
                         "start_token": start, "end_token": end,
                         "max_source_length": source_length,
                         "max_target_length": target_length + 2},
        metric="bleu", higher_is_better=True, scorer=scoring.sequence_to_sequence,
        info={"limit_per_split": request.limit, "max_tokens": max_tokens,
              "source_length": source_length, "target_length": target_length},
        extras={"decode_source": WordDecoder(source_vec.get_vocabulary()),
                "decode_target": WordDecoder(target_vocab, offset, stop=(0, end)),
                "word_level": True},
    )


def report_translations(model, data, out, seed):
    """A few test sources with their references and the model's greedy output."""
    sources, references, predictions = (data.extras.get("translations") or
                                        scoring.translate(model, data, most=8))
    return {"examples": [{"source": s, "target": r, "predicted": p}
                         for s, r, p in list(zip(sources, references, predictions))[:8]]}


_SEQ2SEQ = dict(families=("seq2seq",), model_tasks=("sequence_to_sequence",),
                reporter=report_translations,
                requirement="a seq2seq (encoder-decoder) model")

CHAR_INFO = {
    "reversal": DatasetInfo("reversal", "generated",
                            "digit strings of length 3-8 and their reversals (synthetic)", True),
    "addition": DatasetInfo("addition", "generated",
                            "'123+45' -> '168', operands of 1-3 digits (synthetic)", True),
    "dates": DatasetInfo("dates", "generated",
                         "dates written eight ways -> ISO YYYY-MM-DD (synthetic)", True),
}


@register_task(
    "translation",
    description="Sequence-to-sequence translation: generated date normalisation, "
                "addition or reversal offline; TED talks Portuguese->English from tfds. "
                "Scored by exact match (BLEU for word-level text) of greedy decodes.",
    default_model="lstm_seq2seq", default_epochs=8,
    file_formats="tab-separated sentence pairs, source then target (the Anki/Tatoeba "
                 "fra.txt format; extra columns ignored), one file or a folder of "
                 "train/dev/test files",
    datasets=[CHAR_INFO["dates"], CHAR_INFO["addition"], CHAR_INFO["reversal"],
              DatasetInfo("ted_hrlr_translate/pt_to_en", "tfds",
                          "TED talk transcripts, Portuguese -> English (~51k pairs)", False,
                          default_limit=20000)],
    **_SEQ2SEQ,
)
def load_translation(request):
    if request.data is not None:
        return _file_translation(request)
    name = request.dataset.name
    if name in CHAR_TASKS:
        return _char_data(request, name)
    return _tfds_translation(request, name)


@register_task(
    "reversal",
    description="Reverse digit strings of length 3-8 (generated data, offline); "
                "scored by exact match on strings never seen in training.",
    default_model="lstm_seq2seq", default_epochs=6,
    datasets=[CHAR_INFO["reversal"]],
    **_SEQ2SEQ,
)
def load_reversal(request):
    return _char_data(request, "reversal")
