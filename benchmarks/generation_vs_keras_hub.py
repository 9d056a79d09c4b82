"""Greedy generation speed: zoo against keras-hub's ``GPT2CausalLM``, plus every zoo generator.

    pip install -e .[bench]                     # keras-hub 0.32.0 (benchmark-only extra)
    KERAS_BACKEND=jax python -m benchmarks.generation_vs_keras_hub
    KERAS_BACKEND=tensorflow python -m benchmarks.generation_vs_keras_hub
    KERAS_BACKEND=torch python -m benchmarks.generation_vs_keras_hub
    python -m benchmarks.generation_report      # merge into results/generation.md

One backend per process (Keras fixes it at import); each run writes
``results/generation_<backend>.json`` and ``.md`` (``--out`` to change the
stem).

**Anchor.** Greedy generation of ``N`` new tokens (``--tokens``, default 32,
128, 256, 512) from a random 8-token prompt at each batch size
(``--batches``, default 1 and 32) with ``gpt_decoder`` (vocab 256, width 128,
4 heads, ff 512, 4 blocks, dropout 0) and with keras-hub's ``GPT2CausalLM``
of the same sizes (``GPT2Backbone``, ``preprocessor=None``,
``compile(sampler="greedy")``), both with random weights. Both have 1024
positions (``--positions``): 8 + 512 tokens do not fit 512. keras-hub is given
``{"token_ids", "padding_mask"}`` of length 8 + N with the prompt in the first
8 slots and generates into the padded ones; ``stop_token_ids=None`` and
``stop_token=None`` make both generate exactly N tokens. For every (N, batch)
each implementation's first call is timed alone (tracing/compilation), then
``--repeats`` rounds alternate the two (the order swaps every round) so a busy
machine slows both alike; figures are medians.

**Other generators.** Every other zoo model that generates (the recurrent
seq2seq models, ``lstm_lm`` and ``transformer_seq2seq``; found through
``get_spec(name).capabilities.generation``) at the sizes of
``generation_speed.py`` (defaults, vocabularies of 100; 16-token sources,
8-token prompts), ``--model-tokens`` (32, 128) new tokens at each batch size.
``transformer_seq2seq`` gets ``max_target_length`` = most new tokens + 1.

``--no-anchor`` times zoo alone (no keras-hub needed); ``--toy`` uses the
``toy`` size of every model (for tests).
"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

from benchmarks import generation_report
from benchmarks.run import positive_int

# Imported by ``_import_keras`` once ``--threads`` is applied (Keras reads it at import).
keras = np = zoo = harness = None

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
PROMPT_TOKENS = 8
SOURCE_TOKENS = 16
ANCHOR_MODEL = "gpt_decoder"
# gpt_decoder's sizes in the anchor, and the GPT2Backbone arguments they map to.
ANCHOR_SIZES = {"full": {"vocab_size": 256, "embedding_dim": 128, "num_heads": 4,
                         "ff_dim": 512, "num_layers": 4},
                "toy": {"vocab_size": 12, "embedding_dim": 8, "num_heads": 2,
                        "ff_dim": 12, "num_layers": 2}}
NO_KERAS_HUB = ("keras-hub is not installed: `pip install -e .[bench]` (or pass --no-anchor "
                "to time zoo alone)")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Greedy generation: zoo against keras-hub GPT2CausalLM, plus every zoo "
                    "generator (one Keras backend per process: set KERAS_BACKEND).")
    parser.add_argument("--tokens", type=positive_int, nargs="+", default=[32, 128, 256, 512],
                        help="new tokens of the anchor comparison")
    parser.add_argument("--batches", type=positive_int, nargs="+", default=[1, 32])
    parser.add_argument("--repeats", type=positive_int, default=5,
                        help="interleaved timed calls per implementation (median)")
    parser.add_argument("--model-tokens", type=positive_int, nargs="+", default=[32, 128],
                        help="new tokens for the other generating models")
    parser.add_argument("--models", nargs="*", default=None,
                        help="other generating zoo models to time (default: all but "
                             f"{ANCHOR_MODEL}; none: pass --models alone)")
    parser.add_argument("--positions", type=positive_int, default=None,
                        help="position table of both anchor models (default 1024; "
                             "toy: 8 + most tokens)")
    parser.add_argument("--no-anchor", action="store_true",
                        help="time zoo alone (no keras-hub)")
    parser.add_argument("--toy", action="store_true", help="toy sizes (tests)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads per framework (default 1, as benchmarks.run: on "
                             "busy 2-core machines more threads made PyTorch far slower); "
                             "0 keeps each framework's default")
    parser.add_argument("--out", default=None,
                        help="output stem (default results/generation_<backend>); "
                             "writes <stem>.json and <stem>.md")
    return parser


def _timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


# --- anchor: gpt_decoder against GPT2CausalLM -----------------------------------------------------


def build_anchor(toy, positions, with_keras_hub):
    """The zoo ``gpt_decoder`` and (optionally) keras-hub's ``GPT2CausalLM`` of the same sizes."""
    sizes = ANCHOR_SIZES["toy" if toy else "full"]
    zoo_model = zoo.build(ANCHOR_MODEL, max_length=positions, dropout=0.0, **sizes)
    hub_model = None
    if with_keras_hub:
        import keras_hub

        backbone = keras_hub.models.GPT2Backbone(
            vocabulary_size=sizes["vocab_size"], num_layers=sizes["num_layers"],
            num_heads=sizes["num_heads"], hidden_dim=sizes["embedding_dim"],
            intermediate_dim=sizes["ff_dim"], dropout=0.0, max_sequence_length=positions)
        hub_model = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
        hub_model.compile(sampler="greedy")
    return zoo_model, hub_model, sizes


def _hub_inputs(prompt, new_tokens):
    batch = prompt.shape[0]
    token_ids = np.zeros((batch, PROMPT_TOKENS + new_tokens), "int32")
    token_ids[:, :PROMPT_TOKENS] = prompt
    padding_mask = np.zeros(token_ids.shape, bool)
    padding_mask[:, :PROMPT_TOKENS] = True
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def _zoo_call(model, inputs, new_tokens):
    def call():
        out = zoo.generate(model, inputs, max_length=new_tokens, strategy="greedy",
                           stop_token=None)
        if np.shape(out) != (inputs.shape[0], new_tokens):
            raise RuntimeError(f"zoo.generate returned shape {np.shape(out)}, expected "
                               f"{(inputs.shape[0], new_tokens)}")
    return call


def _hub_call(model, prompt, new_tokens):
    inputs = _hub_inputs(prompt, new_tokens)

    def call():
        out = model.generate(dict(inputs), stop_token_ids=None)
        ids = np.asarray(out["token_ids"])
        if ids.shape != (prompt.shape[0], PROMPT_TOKENS + new_tokens):
            raise RuntimeError(f"keras-hub generate returned shape {ids.shape}")
    return call


def run_anchor(args, positions, rng, log):
    with_hub = not args.no_anchor
    zoo_model, hub_model, sizes = build_anchor(args.toy, positions, with_hub)
    params = {"zoo": zoo_model.count_params(),
              "keras_hub": hub_model.count_params() if hub_model is not None else None}
    rows = []
    for new_tokens in args.tokens:
        for batch in args.batches:
            prompt = rng.integers(1, sizes["vocab_size"],
                                  size=(batch, PROMPT_TOKENS)).astype("int32")
            calls = {"zoo": _zoo_call(zoo_model, prompt, new_tokens)}
            if hub_model is not None:
                calls["keras_hub"] = _hub_call(hub_model, prompt, new_tokens)
            row = {"section": "anchor", "backend": keras.backend.backend(),
                   "model": ANCHOR_MODEL, "batch": batch, "new_tokens": new_tokens,
                   "prompt_tokens": PROMPT_TOKENS, "positions": positions, "params": params}
            try:
                first = {name: _timed(call) for name, call in calls.items()}
                times = {name: [] for name in calls}
                order = list(calls)
                for round_ in range(args.repeats):
                    for name in (order if round_ % 2 == 0 else order[::-1]):
                        times[name].append(_timed(calls[name]))
            except Exception as error:  # noqa: BLE001 - keep the other rows
                row["error"] = _error_text(error)
                rows.append(row)
                log(row)
                continue
            for name in ("zoo", "keras_hub"):
                if name in times:
                    median = statistics.median(times[name])
                    row[f"{name}_seconds"] = _round(median, 6)
                    row[f"{name}_tokens_per_s"] = _round(batch * new_tokens / median, 1)
                    row[f"{name}_ms_per_token"] = _round(1000 * median / new_tokens, 3)
                    row[f"{name}_first_call_s"] = _round(first[name], 6)
                else:
                    for key in ("seconds", "tokens_per_s", "ms_per_token", "first_call_s"):
                        row[f"{name}_{key}"] = None
            row["zoo_over_keras_hub"] = (
                _round(row["zoo_tokens_per_s"] / row["keras_hub_tokens_per_s"], 3)
                if row["keras_hub_tokens_per_s"] else None)
            rows.append(row)
            log(row)
    return rows


# --- the other generating models ------------------------------------------------------------------


def generating_models():
    """Every zoo model that generates, but the anchor's ``gpt_decoder`` (imports Keras)."""
    import zoo as registry

    return [name for name in registry.list_models()
            if registry.get_spec(name).capabilities.generation is not None
            and name != ANCHOR_MODEL]


def _model_sizes(name, toy, most_tokens):
    kind = zoo.get_spec(name).capabilities.generation
    if toy:
        sizes = {"size": "toy"}
    elif kind == "seq2seq":
        sizes = {"source_vocab_size": 100, "target_vocab_size": 100}
    else:
        sizes = {"vocab_size": 100}
    if name == "transformer_seq2seq":
        default = zoo.get_spec(name).size("toy")["max_target_length"] if toy else 128
        sizes["max_target_length"] = max(default, most_tokens + 1)
    return sizes


def _model_inputs(model, kind, batch, rng):
    params = zoo.model_params(model)
    if kind == "seq2seq":
        high = params["source_vocab_size"]
        return rng.integers(3, high, size=(batch, SOURCE_TOKENS)).astype("int32")
    return rng.integers(1, params["vocab_size"], size=(batch, PROMPT_TOKENS)).astype("int32")


def run_models(args, names, rng, log):
    rows = []
    for name in names:
        kind = zoo.get_spec(name).capabilities.generation
        sizes = _model_sizes(name, args.toy, max(args.model_tokens))
        try:
            model = zoo.build(name, **sizes)
        except Exception as error:  # noqa: BLE001 - one failing model must not end the run
            rows.append({"section": "models", "model": name, "error": _error_text(error)})
            log(rows[-1])
            continue
        for new_tokens in args.model_tokens:
            for batch in args.batches:
                inputs = _model_inputs(model, kind, batch, rng)
                row = {"section": "models", "backend": keras.backend.backend(), "model": name,
                       "kind": kind, "batch": batch, "new_tokens": new_tokens,
                       "params": model.count_params()}
                try:
                    call = _zoo_call(model, inputs, new_tokens)
                    first = _timed(call)
                    median = statistics.median(_timed(call) for _ in range(args.repeats))
                except Exception as error:  # noqa: BLE001
                    row["error"] = _error_text(error)
                else:
                    row.update(seconds=_round(median, 6),
                               tokens_per_s=_round(batch * new_tokens / median, 1),
                               ms_per_token=_round(1000 * median / new_tokens, 3),
                               first_call_s=_round(first, 6))
                rows.append(row)
                log(row)
    return rows


def _error_text(error):
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]


# --- summaries ------------------------------------------------------------------------------------


def compile_times(rows):
    """Each implementation's very first call (its first (N, batch)) and that call's extra time."""
    seen, out = set(), []
    for row in rows:
        if row.get("error"):
            continue
        if row["section"] == "anchor":
            entries = [(f"{ANCHOR_MODEL} (zoo)", "zoo_"),
                       ("GPT2CausalLM (keras-hub)", "keras_hub_")]
        else:
            entries = [(row["model"], "")]
        for label, prefix in entries:
            first = row.get(f"{prefix}first_call_s")
            if label in seen or first is None:
                continue
            seen.add(label)
            out.append({"model": label, "batch": row["batch"], "new_tokens": row["new_tokens"],
                        "first_call_s": first,
                        "compile_s": _round(max(0.0, first - row[f"{prefix}seconds"]), 3)})
    return out


def flat_cost(rows, batch=1):
    """Time per new token at the most new tokens over that at the fewest (anchor, batch 1)."""
    anchor = {row["new_tokens"]: row for row in rows
              if row["section"] == "anchor" and row["batch"] == batch and not row.get("error")}
    if len(anchor) < 2:
        return None
    low, high = anchor[min(anchor)], anchor[max(anchor)]
    result = {"batch": batch, "from_tokens": min(anchor), "to_tokens": max(anchor)}
    for name in ("zoo", "keras_hub"):
        a, b = low[f"{name}_ms_per_token"], high[f"{name}_ms_per_token"]
        result[name] = _round(b / a, 3) if a and b else None
    return result


# --- main -----------------------------------------------------------------------------------------


def run(args):
    """The backend result ``{"environment", "settings", "rows", "compile", "flat_cost"}``."""
    if not args.no_anchor:
        try:
            import keras_hub  # noqa: F401
        except ImportError:
            sys.exit(NO_KERAS_HUB)
    positions = args.positions or (max(16, PROMPT_TOKENS + max(args.tokens)) if args.toy
                                   else 1024)
    if PROMPT_TOKENS + max(args.tokens) > positions:
        sys.exit(f"--positions {positions} must hold the {PROMPT_TOKENS}-token prompt and "
                 f"{max(args.tokens)} new tokens")
    names = generating_models() if args.models is None else list(args.models)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)

    def log(row):
        print(json.dumps(row), flush=True)

    environment = harness.environment()
    try:
        import importlib.metadata
        environment["keras_hub"] = importlib.metadata.version("keras-hub")
    except Exception:  # noqa: BLE001
        environment["keras_hub"] = None
    settings = {"tokens": args.tokens, "batches": args.batches, "repeats": args.repeats,
                "model_tokens": args.model_tokens, "models": names, "positions": positions,
                "prompt_tokens": PROMPT_TOKENS, "source_tokens": SOURCE_TOKENS,
                "anchor": not args.no_anchor, "toy": args.toy, "threads": args.threads,
                "anchor_sizes": ANCHOR_SIZES["toy" if args.toy else "full"]}
    rows = run_anchor(args, positions, rng, log)
    rows += run_models(args, names, rng, log)
    return {"environment": environment, "settings": settings, "rows": rows,
            "compile": compile_times(rows), "flat_cost": flat_cost(rows)}


def write(result, stem):
    stem = pathlib.Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(generation_report.backend_markdown(result) + "\n")
    return stem.with_suffix(".json"), stem.with_suffix(".md")


def _import_keras(threads):
    """Apply ``--threads`` (as ``benchmarks.run``) and import Keras, NumPy and the zoo."""
    global keras, np, zoo, harness
    from benchmarks import run as benchmark_run

    benchmark_run.configure_current(threads)
    import keras
    import numpy as np

    import zoo
    from benchmarks import harness


def main(argv=None):
    args = build_parser().parse_args(argv)
    _import_keras(args.threads)
    result = run(args)
    stem = args.out or RESULTS / f"generation_{keras.backend.backend()}"
    for path in write(result, os.fspath(stem)):
        print(f"wrote {path}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
