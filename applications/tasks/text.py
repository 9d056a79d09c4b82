"""Text tasks: ``sentiment`` (classification), ``tagging`` (per-token labels) and
``text_generation`` (character language models).

Text is vectorised with Keras' ``TextVectorization`` inside tf.data
pipelines, for the generated offline sets and the tfds sets alike.
"""

import pathlib

import numpy as np

from applications import data as data_layer
from applications import generated
from applications.tasks import scoring, user_files
from applications.tasks.base import DatasetInfo, TaskData, register_task
from zoo import files

#: The longest token sequence a user's text or sentence is cut to.
MAX_FILE_LENGTH = 256


def _split_lists(items, labels, seed, sizes):
    """Shuffle-split parallel lists into len(sizes) consecutive parts."""
    order = np.random.default_rng(seed).permutation(len(items))
    parts, start = [], 0
    for size in sizes:
        chosen = order[start:start + size]
        parts.append(([items[i] for i in chosen], [labels[i] for i in chosen]))
        start += size
    return parts


# --- sentiment ---------------------------------------------------------------------------------


def _sentiment_tfds(request):
    splits = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}
    parts = data_layer.tfds_splits("imdb_reviews", splits, request.limit, request.data_dir,
                                   request.download, request.offline_hint)
    return {key: ds.map(data_layer.text_pairs("text", "label")) for key, ds in parts.items()}, \
        20000, 256, None


def _sentiment_file(request):
    """Datasets of (text, class id), the vocabulary budget, the length and the classes."""
    from applications.formats.text import read_labelled_text

    options = request.options

    def reader(path):
        return read_labelled_text(path, text_column=options["text_column"],
                                  label_column=options["label_column"])

    records = user_files.read_splits(request.data, reader, (".csv", ".tsv", ".tab", ".txt"),
                                     request.seed)
    # The classes come from the whole training file, then each split is cut to --limit.
    classes, records, ids = user_files.indexed_splits(records, request.limit)
    words = sorted(len(text.split()) for text in records["train"].items)
    length = int(min(MAX_FILE_LENGTH, max(16, words[int(0.95 * (len(words) - 1))])))
    datasets = {key: data_layer.text_dataset(records[key].items, ids[key]) for key in ids}
    sizes = [len(records[key].items) for key in ("train", "validation", "test")]
    return datasets, 20000, length, sizes, list(classes)


def _sentiment_generated(request):
    sizes = [request.cap(n) for n in (4000, 500, 500)]
    make = (generated.synthetic_product_reviews if request.dataset.name == "generated_products"
            else generated.synthetic_reviews)
    texts, labels = make(sum(sizes), seed=request.seed + 1)
    parts = _split_lists(texts, list(labels), request.seed, sizes)
    datasets = {key: data_layer.text_dataset(t, l)
                for key, (t, l) in zip(("train", "validation", "test"), parts)}
    return datasets, 2000, 40, sizes


@register_task(
    "sentiment",
    description="Binary sentiment of text with a token classifier: generated reviews "
                "with negation offline, IMDB reviews from tfds. Scored by test accuracy.",
    families=("classifier",), model_tasks=("classification",),
    accepts=lambda spec: "tokens" in spec.capabilities.input_kinds,
    requirement="a classifier over token ids",
    default_model="cnn1d_classifier", default_epochs=4,
    file_formats="a CSV or TSV file with a header row (--text-column, --label-column; labels "
                 "may be strings, two or more classes), or a folder of train/dev/test files",
    datasets=[DatasetInfo("generated_reviews", "generated",
                          "one-line movie reviews from templates, labelled by a negation-aware "
                          "rule (synthetic)", True),
              DatasetInfo("generated_products", "generated",
                          "one-line product reviews labelled by their last clause: another "
                          "domain and rule, for fine-tuning (--from, --lora) (synthetic)", True),
              DatasetInfo("imdb_reviews", "tfds", "IMDB movie reviews, 25k train / 25k test",
                          False)],
)
def load_sentiment(request):
    classes = ["negative", "positive"]
    if request.data is not None:
        datasets, max_tokens, length, sizes, classes = _sentiment_file(request)
    elif request.dataset.name == "imdb_reviews":
        datasets, max_tokens, length, sizes = _sentiment_tfds(request)
    else:
        datasets, max_tokens, length, sizes = _sentiment_generated(request)
    if request.vocabulary is not None:  # a shared model's words (--from): its ids, not new ones
        vectorizer = data_layer.fixed_vectorizer(request.vocabulary, length)
    else:
        vectorizer = data_layer.text_vectorizer(data_layer.first(datasets["train"]),
                                                max_tokens, length)
    batch = request.batch_size
    # Two classes: one sigmoid unit (float labels [batch, 1]); more: a softmax.
    label_fn = data_layer.binary_label_batch if len(classes) == 2 else None
    pipelines = {key: data_layer.vectorize_dataset(ds, vectorizer, batch,
                                                   shuffle=key == "train", seed=request.seed,
                                                   label_fn=label_fn)
                 for key, ds in datasets.items()}
    info = {"max_tokens": max_tokens, "sequence_length": length, "classes": classes}
    if sizes:
        info.update(train_size=sizes[0], validation_size=sizes[1], test_size=sizes[2])
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides={"vocab_size": vectorizer.vocabulary_size(),
                         "num_classes": len(classes), "max_length": length,
                         "input_type": "tokens"},
        metric="accuracy", higher_is_better=True, scorer=scoring.classification, info=info,
        extras={"vocabulary": vectorizer.get_vocabulary()},
    )


# --- tagging -----------------------------------------------------------------------------------


def _tag_rows(tags, length):
    rows = np.zeros((len(tags), length), "int32")
    for i, row in enumerate(tags):
        row = np.asarray(row[:length]) + 1  # 0 is padding
        rows[i, :len(row)] = row
    return rows


def _tagging_tfds(request, length):
    splits = {"train": "train", "validation": "dev", "test": "test"}
    parts = data_layer.tfds_splits("conll2003", splits, request.limit, request.data_dir,
                                   request.download, request.offline_hint)
    to_pair = data_layer.tagged_sentence("tokens", "ner", length)
    return {key: ds.map(to_pair) for key, ds in parts.items()}, 20000, None


def _tagging_generated(request, length):
    sizes = [request.cap(n) for n in (3000, 400, 400)]
    sentences, tags = generated.synthetic_entities(sum(sizes), seed=request.seed + 1)
    texts = [" ".join(tokens) for tokens in sentences]
    parts = _split_lists(texts, tags, request.seed, sizes)
    return {key: data_layer.text_dataset(t, _tag_rows(l, length))
            for key, (t, l) in zip(("train", "validation", "test"), parts)}, 2000, sizes


def _tagging_file(request):
    """Token ids and tag ids (+1) of a user's CoNLL-U or CoNLL-2003 file(s)."""
    from applications.formats.text import read_conll2003, read_conllu, sniff_text_format

    tag_column = request.options["tag_column"]

    def reader(path):
        if sniff_text_format(path) == "conllu":
            return read_conllu(path, tag_column=tag_column or "upos")
        column = -1 if tag_column is None else _column_number(tag_column)
        return read_conll2003(path, tag_column=column)

    records = user_files.read_splits(request.data, reader,
                                     (".conllu", ".conll", ".txt", ".bio", ".iob", ".tsv"),
                                     request.seed)
    tags, records, ids = user_files.indexed_splits(records, request.limit)
    vocabulary = user_files.TokenVocabulary(records["train"].items)
    longest = max(len(sentence) for split in records.values() for sentence in split.items)
    length = min(longest, MAX_FILE_LENGTH)
    pipelines = {key: data_layer.from_arrays(
        vocabulary.encode(records[key].items, length), user_files.tag_rows(ids[key], length),
        request.batch_size, shuffle=key == "train", seed=request.seed) for key in ids}
    cut = sum(max(0, len(s) - length) for split in records.values() for s in split.items)
    info = {"sequence_length": length, "tags": list(tags), "vocabulary_size": len(vocabulary),
            "tokens_cut": cut, "format": records["train"].format,
            **{f"{key}_sentences": len(records[key].items) for key in ids}}
    return pipelines, vocabulary, tags, length, info


def _column_number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"For a CoNLL-2003-style file --tag-column is a column number "
                         f"(0 = the token, -1 = the last column). Received: "
                         f"tag_column={value!r}") from None


@register_task(
    "tagging",
    description="Named-entity tagging, one label per token (CoNLL-2003 tags): generated "
                "sentences offline, conll2003 from tfds. Scored by token accuracy "
                "(padding left out).",
    families=("classifier",), model_tasks=("tagging",), requirement="a tagger",
    default_model="lstm_tagger", default_epochs=3,
    file_formats="CoNLL-U (word forms with UPOS, or XPOS with --tag-column xpos) or "
                 "CoNLL-2003-style token/tag files (--tag-column N, default the last), one "
                 "file or a folder of train/dev/test files",
    datasets=[DatasetInfo("generated_entities", "generated",
                          "template sentences with people, places, organisations and misc "
                          "names, some ambiguous (synthetic)", True),
              DatasetInfo("conll2003", "tfds", "CoNLL-2003 English news, NER tags", False)],
)
def load_tagging(request):
    if request.data is not None:
        pipelines, vocabulary, tags, length, info = _tagging_file(request)
        return TaskData(
            task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
            train=pipelines["train"], validation=pipelines["validation"],
            test=pipelines["test"],
            build_overrides={"vocab_size": len(vocabulary), "num_tags": len(tags),
                             "max_length": length},
            metric="accuracy", higher_is_better=True, scorer=scoring.classification, info=info,
            extras={"vocabulary": vocabulary.words})
    length = 48
    if request.dataset.name == "conll2003":
        datasets, max_tokens, sizes = _tagging_tfds(request, length)
    else:
        datasets, max_tokens, sizes = _tagging_generated(request, length)
    # Tokens are already split: keep punctuation tokens and case-fold only.
    vectorizer = data_layer.text_vectorizer(data_layer.first(datasets["train"]), max_tokens,
                                            length, standardize="lower")
    pipelines = {key: data_layer.vectorize_dataset(ds, vectorizer, request.batch_size,
                                                   shuffle=key == "train", seed=request.seed)
                 for key, ds in datasets.items()}
    info = {"max_tokens": max_tokens, "sequence_length": length,
            "tags": list(generated.NER_TAGS)}
    if sizes:
        info.update(train_size=sizes[0], validation_size=sizes[1], test_size=sizes[2])
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides={"vocab_size": vectorizer.vocabulary_size(),
                         "num_tags": len(generated.NER_TAGS), "max_length": length},
        metric="accuracy", higher_is_better=True, scorer=scoring.classification, info=info,
        extras={"vocabulary": vectorizer.get_vocabulary()},
    )


# --- text generation ---------------------------------------------------------------------------


def bundled_english_text():
    """Real English prose that ships with scikit-learn: its dataset descriptions
    (``sklearn/datasets/descr/*.rst``, BSD-3-Clause), about 80 kB."""
    import sklearn.datasets

    folder = pathlib.Path(sklearn.datasets.__file__).parent / "descr"
    return "\n\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.rst")))


def decode_characters(vocabulary, ids):
    return "".join(vocabulary[i] if 1 < i < len(vocabulary) else "" for i in ids)


def report_samples(model, data, out, seed, prompts=3, new_tokens=120):
    """Sampled continuations of test prompts (temperature 0.8), also in ``samples.txt``."""
    import zoo

    vocabulary = data.extras["vocabulary"]
    x, _ = scoring.test_arrays(data, most=prompts)
    prompt = x[:, :24]
    prompt = np.where(prompt > 0, prompt, 1)
    context = getattr(model, "zoo_config", {}).get("max_length")  # Transformers: positions
    if context:
        new_tokens = max(1, min(new_tokens, context - prompt.shape[1]))
    ids = zoo.generate(model, prompt, max_length=new_tokens, strategy="sample",
                       temperature=0.8, seed=seed)
    samples = [{"prompt": decode_characters(vocabulary, p),
                "continuation": decode_characters(vocabulary, g)} for p, g in zip(prompt, ids)]
    text = "\n\n".join(f"[prompt] {s['prompt']}\n[model] {s['continuation']}" for s in samples)
    files.write_new_text(out / "samples.txt", text + "\n")
    return {"samples": samples}


@register_task(
    "text_generation",
    description="Character-level language modelling and sampling: scikit-learn's bundled "
                "dataset descriptions offline, tiny_shakespeare from tfds. Scored by test "
                "perplexity; writes generated samples.",
    families=("decoder",), model_tasks=("language_modeling",),
    requirement="a decoder-only language model",
    default_model="lstm_lm", default_epochs=15, reporter=report_samples,
    default_batch_size=32,
    datasets=[DatasetInfo("sklearn_docs", "scikit-learn",
                          "English prose: the dataset descriptions scikit-learn ships "
                          "(~80 kB, real text)", True),
              DatasetInfo("tiny_shakespeare", "tfds",
                          "40k lines of Shakespeare (~1 MB of characters)", False)],
)
def load_text_generation(request, length=64):
    if request.dataset.name == "tiny_shakespeare":
        parts = data_layer.tfds_splits("tiny_shakespeare",
                                       {"train": "train", "validation": "validation",
                                        "test": "test"}, None, request.data_dir,
                                       request.download, request.offline_hint)
        texts = {key: data_layer.joined_text(ds, "text") for key, ds in parts.items()}
        vectorizer = data_layer.character_vectorizer(texts["train"])
        windows = {key: data_layer.char_chunks(text, vectorizer, length)
                   for key, text in texts.items()}
    else:
        # Windows of the whole text, every 20th to validation and the next to test:
        # the descriptions differ in style, so a tail split would test another domain.
        text = bundled_english_text()
        vectorizer = data_layer.character_vectorizer(text)
        everything = data_layer.char_chunks(text, vectorizer, length)
        position = np.arange(len(everything)) % 20
        windows = {"train": everything[position < 18], "validation": everything[position == 18],
                   "test": everything[position == 19]}
        texts = {key: len(value) * (length + 1) for key, value in windows.items()}
    pipelines = {}
    for key, chunks in windows.items():
        if key == "train":
            chunks = chunks[np.random.default_rng(request.seed).permutation(len(chunks))]
        chunks = chunks[:request.cap(len(chunks))]
        pipelines[key] = data_layer.from_arrays(chunks[:, :-1], chunks[:, 1:],
                                                request.batch_size, shuffle=key == "train",
                                                seed=request.seed)
    vocabulary = vectorizer.get_vocabulary()
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides={"vocab_size": len(vocabulary), "max_length": length},
        metric="perplexity", higher_is_better=False, scorer=scoring.language_model,
        info={"characters": {k: v if isinstance(v, int) else len(v)
                             for k, v in texts.items()},
              "sequence_length": length, "vocabulary_size": len(vocabulary)},
        extras={"vocabulary": vocabulary},
    )
