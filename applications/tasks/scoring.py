"""Scores shared by the tasks: Keras' own metrics on the test split, exact match and
BLEU for generated sequences, perplexity, ranking metrics for anomaly scores."""

import collections
import math

import numpy as np

import zoo
from applications import data as data_layer


def keras_scores(model, dataset, rename=None):
    """``model.evaluate`` on ``dataset`` as a dict of floats (names optionally renamed)."""
    results = model.evaluate(dataset, verbose=0, return_dict=True)
    rename = rename or {}
    return {rename.get(key, key): float(value) for key, value in results.items()}


def classification(model, data):
    """Accuracy and loss (classifiers, taggers, graph models)."""
    return keras_scores(model, data.test, rename={"masked_accuracy": "accuracy"})


def language_model(model, data):
    """Next-token accuracy, cross-entropy and perplexity (exp of the cross-entropy)."""
    scores = keras_scores(model, data.test, rename={"masked_accuracy": "accuracy"})
    scores["perplexity"] = float(math.exp(min(scores["loss"], 50.0)))
    return scores


def test_arrays(data, most=None):
    """The test split as NumPy ``(x, y)`` (cached on ``data.extras``)."""
    if "test_arrays" not in data.extras:
        data.extras["test_arrays"] = data_layer.to_numpy(data.test)
    x, y = data.extras["test_arrays"]
    if most is not None:
        x = {k: v[:most] for k, v in x.items()} if isinstance(x, dict) else x[:most]
        y = y[:most]
    return x, y


def translate(model, data, most=None):
    """Greedy translations of the test sources: ``(sources, references, predictions)``.

    Decoding stops 10 tokens past the longest reference (longer output cannot
    match). The last result is kept on ``data.extras`` for the run's report.
    """
    x, y = test_arrays(data, most)
    longest = int((y != 0).sum(axis=1).max()) if len(y) else 1
    steps = min(y.shape[1], longest + 10)
    room = getattr(model, "zoo_config", {}).get("max_target_length")  # Transformers
    if room:
        steps = max(1, min(steps, room - 1))  # the start token takes one position
    ids = zoo.generate(model, x["source_tokens"], max_length=steps)
    decode_source, decode_target = data.extras["decode_source"], data.extras["decode_target"]
    result = decode_source(x["source_tokens"]), decode_target(y), decode_target(ids)
    data.extras["translations"] = result
    return result


def sequence_to_sequence(model, data):
    """Teacher-forced token accuracy and loss; exact match (and BLEU for word-level
    text) of greedy decodes on at most 1000 test pairs."""
    scores = keras_scores(model, data.test, rename={"masked_accuracy": "token_accuracy"})
    _, references, predictions = translate(model, data, most=1000)
    scores["exact_match"] = float(np.mean([p == r for p, r in zip(predictions, references)]))
    if data.extras.get("word_level"):
        scores["bleu"] = corpus_bleu(references, predictions)
    return scores


def corpus_bleu(references, predictions, max_order=4):
    """Corpus BLEU-4 (Papineni et al., 2002) in [0, 100] over whitespace tokens, with
    the brevity penalty and add-one smoothing of the higher orders."""
    matches, totals = [0] * max_order, [0] * max_order
    reference_length = prediction_length = 0
    for reference, prediction in zip(references, predictions):
        ref, hyp = reference.split(), prediction.split()
        reference_length += len(ref)
        prediction_length += len(hyp)
        for order in range(1, max_order + 1):
            ref_counts = collections.Counter(tuple(ref[i:i + order])
                                             for i in range(len(ref) - order + 1))
            hyp_counts = collections.Counter(tuple(hyp[i:i + order])
                                             for i in range(len(hyp) - order + 1))
            matches[order - 1] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
            totals[order - 1] += max(len(hyp) - order + 1, 0)
    if prediction_length == 0 or matches[0] == 0:
        return 0.0
    logs = [math.log(matches[0] / totals[0])] + [
        math.log((m + 1) / (t + 1)) for m, t in zip(matches[1:], totals[1:])]
    penalty = min(0.0, 1 - reference_length / prediction_length)
    return float(100 * math.exp(penalty + sum(logs) / max_order))


def binary_scores(labels, scores, threshold):
    """Precision, recall, F1 at ``threshold`` (score above it = positive) and ROC-AUC."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).astype(bool)
    flagged = np.asarray(scores) > threshold
    true_positive = int(np.sum(flagged & labels))
    precision = true_positive / max(int(flagged.sum()), 1)
    recall = true_positive / max(int(labels.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc = float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else float("nan")
    return {"roc_auc": auc, "precision": float(precision), "recall": float(recall),
            "f1": float(f1), "threshold": float(threshold)}
