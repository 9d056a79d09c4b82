"""Markdown for the generation benchmark; merges the backends into ``results/generation.md``.

    python -m benchmarks.generation_report [--results benchmarks/results]

Reads ``generation_<backend>.json`` (written by
``python -m benchmarks.generation_vs_keras_hub``, one per Keras backend) and
writes ``generation.md``: the zoo / keras-hub table, the other generators,
first-call (compile) times and the flat-cost ratio. Plain data, no Keras import.
"""

import argparse
import json
import pathlib
import time

from benchmarks.report import BACKEND_ORDER, fmt

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def machine_line(environment):
    env = environment
    return (f"{env.get('device', 'cpu').upper()}, {env.get('cpu_count')} cores "
            f"(load {env.get('load_average_1m')}); keras {env.get('keras')}, keras-hub "
            f"{env.get('keras_hub')}, tensorflow {env.get('tensorflow')}, jax {env.get('jax')}, "
            f"torch {env.get('torch')}; {env.get('time')}")


def how_measured(settings):
    sizes = settings["anchor_sizes"]
    why = (f" ({settings['prompt_tokens']} + 512 new tokens do not fit 512; the same models "
           f"for every N)" if settings["positions"] > 512 else "")
    text = (
        f"Greedy generation from a random {settings['prompt_tokens']}-token prompt, random "
        f"weights, no stop token (every row generates exactly N tokens). zoo `gpt_decoder` "
        f"against keras-hub `GPT2CausalLM` (`preprocessor=None`, `sampler=\"greedy\"`), both "
        f"vocab {sizes['vocab_size']}, width {sizes['embedding_dim']}, {sizes['num_heads']} "
        f"heads, ff {sizes['ff_dim']}, {sizes['num_layers']} blocks, dropout 0, and "
        f"**{settings['positions']} positions**{why}. Per (N, batch) each implementation's "
        f"first call is timed alone (tracing and compilation), then {settings['repeats']} "
        f"interleaved round(s) (order swapped every round); figures are medians. "
        f"tok/s = batch x N / median; ratio = zoo tok/s / keras-hub tok/s (> 1: zoo faster).")
    if not settings["anchor"]:
        text += " keras-hub was not timed (`--no-anchor`)."
    if settings["toy"]:
        text += " **Toy sizes** (`--toy`): a smoke test, not a benchmark."
    return text


def anchor_lines(results):
    lines = ["| backend | batch | new tokens | zoo tok/s | keras-hub tok/s | ratio zoo/keras-hub "
             "| zoo ms/token | keras-hub ms/token |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for result in results:
        for row in result["rows"]:
            if row["section"] != "anchor":
                continue
            if row.get("error"):
                lines.append(f"| {row['backend']} | {row['batch']} | {row['new_tokens']} | "
                             f"failed: {row['error'].replace('|', '/')} | | | | |")
                continue
            lines.append(
                f"| {row['backend']} | {row['batch']} | {row['new_tokens']} | "
                f"{fmt(row['zoo_tokens_per_s'])} | {fmt(row['keras_hub_tokens_per_s'])} | "
                f"{fmt(row['zoo_over_keras_hub'], 2)} | {fmt(row['zoo_ms_per_token'], 2)} | "
                f"{fmt(row['keras_hub_ms_per_token'], 2)} |")
    return lines


def model_lines(results):
    lines = ["| backend | model | batch | new tokens | tok/s | ms/token |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for result in results:
        backend = result["environment"]["backend"]
        for row in result["rows"]:
            if row["section"] != "models":
                continue
            if row.get("error"):
                lines.append(f"| {backend} | {row['model']} | {fmt(row.get('batch'))} | "
                             f"{fmt(row.get('new_tokens'))} | failed: "
                             f"{row['error'].replace('|', '/')} | |")
                continue
            lines.append(f"| {backend} | {row['model']} | {row['batch']} | {row['new_tokens']} "
                         f"| {fmt(row['tokens_per_s'])} | {fmt(row['ms_per_token'], 2)} |")
    return lines


def compile_lines(results):
    lines = ["| backend | model | first call at (batch, N) | first call s | compile s |",
             "| --- | --- | --- | ---: | ---: |"]
    for result in results:
        backend = result["environment"]["backend"]
        for entry in result["compile"]:
            lines.append(f"| {backend} | {entry['model']} | ({entry['batch']}, "
                         f"{entry['new_tokens']}) | {fmt(entry['first_call_s'], 2)} | "
                         f"{fmt(entry['compile_s'], 2)} |")
    return lines


def flat_cost_lines(results):
    lines = ["| backend | batch | ms/token at most N over at fewest N | zoo | keras-hub |",
             "| --- | ---: | --- | ---: | ---: |"]
    for result in results:
        flat = result.get("flat_cost")
        if not flat:
            continue
        lines.append(f"| {result['environment']['backend']} | {flat['batch']} | "
                     f"{flat['to_tokens']} / {flat['from_tokens']} | {fmt(flat['zoo'], 2)} | "
                     f"{fmt(flat['keras_hub'], 2)} |")
    return lines


def _sections(results):
    settings = results[0]["settings"]
    lines = [how_measured(settings), "", "## zoo against keras-hub", ""]
    lines += anchor_lines(results)
    sizes = ("toy sizes" if settings["toy"] else
             "each model's defaults with vocabularies of 100 (as `generation_speed.py`)")
    lines += ["", "## Other zoo generators", "",
              f"Greedy, {sizes}, {settings['source_tokens']}-token sources / "
              f"{settings['prompt_tokens']}-token prompts, median of {settings['repeats']} "
              f"call(s) after the first; `transformer_seq2seq` gets `max_target_length` = most "
              f"new tokens + 1 where its default is too short.", ""]
    lines += model_lines(results)
    lines += ["", "## First call (compile) times", "",
              "Each implementation's very first call (its first batch and N) and that call "
              "minus the median of the same call afterwards. Later shapes may trace again: "
              "each row's `*_first_call_s` in the JSON has them.", ""]
    lines += compile_lines(results)
    lines += ["", "## Flat cost", "",
              "Time per new token at the most new tokens over that at the fewest (batch 1): "
              "1.0 means a new token costs the same however long the sequence already is.", ""]
    flat = flat_cost_lines(results)
    lines += flat if len(flat) > 2 else ["(needs two or more `--tokens` at batch 1)"]
    return lines


def backend_markdown(result):
    """One backend's Markdown (``results/generation_<backend>.md``)."""
    lines = [f"# Generation: zoo against keras-hub ({result['environment']['backend']})", "",
             f"Machine: {machine_line(result['environment'])}.", ""]
    return "\n".join(lines + _sections([result]))


def merged_markdown(results):
    """The backends' results (ordered) as one Markdown page (``results/generation.md``)."""
    lines = ["# Generation: zoo against keras-hub", "",
             "Written by `python -m benchmarks.generation_report` from "
             "`generation_<backend>.json` (`python -m benchmarks.generation_vs_keras_hub`, "
             f"one process per Keras backend); {time.strftime('%Y-%m-%d')}.", ""]
    for result in results:
        lines.append(f"- **{result['environment']['backend']}**: "
                     f"{machine_line(result['environment'])}")
    lines.append("")
    return "\n".join(lines + _sections(results))


def load(results_dir):
    results_dir = pathlib.Path(results_dir)
    found = {}
    for path in sorted(results_dir.glob("generation_*.json")):
        result = json.loads(path.read_text())
        found[result["environment"]["backend"]] = result
    order = [name for name in BACKEND_ORDER if name in found]
    order += sorted(set(found) - set(order))
    return [found[name] for name in order]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=RESULTS,
                        help="folder with generation_<backend>.json; generation.md goes there")
    args = parser.parse_args(argv)
    results = load(args.results)
    if not results:
        parser.exit(1, f"no generation_<backend>.json in {args.results}: run "
                       f"`python -m benchmarks.generation_vs_keras_hub` first\n")
    path = pathlib.Path(args.results) / "generation.md"
    path.write_text(merged_markdown(results) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
