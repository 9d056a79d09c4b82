"""Markdown tables and summaries from benchmark results (plain data, no Keras import).

A backend result is ``{"environment": {...}, "settings": {...}, "rows": [...]}``
as written by ``python -m benchmarks.run --backend B``; a merged result is
``{"generated": ..., "backends": {name: result}, "summary": {...}}``.
"""

import statistics

KERAS_LABELS = ("zoo", "keras")
BACKEND_ORDER = ("tensorflow", "jax", "torch")


def fmt(value, digits=1):
    """A table cell: "–" for None, thousands separators, ``digits`` decimals for floats."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _jit(row):
    if row["framework"] == "torch":
        return "torch.compile" if row["jit_compile"] else "eager"
    return str(bool(row["jit_compile"]))


def backend_heading(result):
    env, settings = result["environment"], result["settings"]
    device = env.get("device", "cpu").upper()
    threads = settings.get("threads")
    thread_text = (f"{threads} thread(s) per framework" if threads
                   else "framework default threads")
    precision = settings.get("mixed_precision") or "float32"
    return (f"Keras backend **{env['backend']}** on {device} ({env.get('cpu_count')} cores, "
            f"load {env.get('load_average_1m')}, {thread_text}, {precision}); keras "
            f"{env.get('keras')}, tensorflow {env.get('tensorflow')}, jax {env.get('jax')}, "
            f"torch {env.get('torch')}; {env.get('time')}")


def backend_table(result):
    """One Markdown table with a row per (family, implementation, jit_compile)."""
    settings = result["settings"]
    lines = [
        backend_heading(result),
        "",
        f"Batch {settings['batch_size']}; train figures are medians over "
        f"{settings['rounds']} interleaved rounds of {settings['steps']} steps after "
        f"{settings['warmup_steps']} warm-up steps; latency: median of "
        f"{settings['rounds']} x {settings['latency_repeats']} calls.",
        "",
        "| family | model | implementation | jit_compile | params | train samples/s "
        "| step ms (median [q1, q3]) | compile s | latency b1 ms | latency b64 ms "
        "| peak memory MB (growth) |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        if row.get("error"):
            lines.append(f"| {row['family']} | {row['model']} | {row['implementation']} | "
                         f"{_jit(row)} | {fmt(row['params'])} | failed: "
                         f"{row['error'].replace('|', '/')} | | | | | |")
            continue
        quartiles = row.get("train_step_ms_quartiles") or [None, None]
        latency = row.get("latency_ms", {})
        lines.append(
            f"| {row['family']} | {row['model']} | {row['implementation']} | {_jit(row)} | "
            f"{fmt(row['params'])} | {fmt(row['train_samples_per_s'])} | "
            f"{fmt(row['train_step_ms'], 2)} [{fmt(quartiles[0], 2)}, {fmt(quartiles[1], 2)}] | "
            f"{fmt(row['compile_s'], 2)} | {fmt(latency.get('1'), 2)} | "
            f"{fmt(latency.get('64'), 2)} | {fmt(row['peak_memory_mb'], 0)} "
            f"(+{fmt(row['peak_memory_growth_mb'], 0)}) |")
    skipped = result["settings"].get("skipped")
    if skipped:
        lines += ["", f"Skipped: {skipped}."]
    memory_kinds = sorted({row["memory"] for row in result["rows"] if row.get("memory")})
    if memory_kinds:
        lines += ["", f"Peak memory: {', '.join(memory_kinds)}; growth = peak minus the "
                      "resident set just before the chunk (all of a family's models share "
                      "the process)."]
    return "\n".join(lines)


def _find(rows, family, implementation, jit=None):
    for row in rows:
        if (row["family"] == family and row["implementation"] == implementation
                and (jit is None or bool(row["jit_compile"]) == jit) and not row.get("error")
                and row.get("train_samples_per_s")):
            return row
    return None


def paired_ratio(row, baseline):
    """Throughput of ``row`` over ``baseline``: ``(median, [q1, q3])`` of the per-round
    ratios where both have round timings (both ran in every round, close in time, so
    load swings largely cancel), else ``(ratio of the overall figures, None)``."""
    mine, theirs = row.get("round_step_ms") or {}, baseline.get("round_step_ms") or {}
    common = [r for r in mine if r in theirs and mine[r] and theirs[r]]
    if len(common) >= 2:
        ratios = sorted(theirs[r] / mine[r] for r in common)
        q = statistics.quantiles(ratios, n=4, method="inclusive")
        return round(statistics.median(ratios), 3), [round(q[0], 3), round(q[2], 3)]
    return round(row["train_samples_per_s"] / baseline["train_samples_per_s"], 3), None


def summarize(results):
    """Ratios from ``{backend: result}``.

    Returns ``{"zoo_vs_keras": [...], "keras_vs_torch": [...]}``:

    - ``zoo_vs_keras``: per backend, family and ``jit_compile``, zoo
      samples/s divided by hand-written Keras samples/s (same process,
      interleaved);
    - ``keras_vs_torch``: per family and backend, the zoo model (its best
      ``jit_compile``) against plain PyTorch eager timed in that same
      process; the backend with the highest ratio is the fastest Keras
      backend. Ratios, not absolute figures, pick it: each process ran
      under its own load, and its own PyTorch baseline cancels it.
    """
    zoo_vs_keras, keras_vs_torch = [], []
    families = []
    for result in results.values():
        for row in result["rows"]:
            if row["family"] not in families:
                families.append(row["family"])
    for backend in _ordered(results):
        rows = results[backend]["rows"]
        for family in families:
            for jit in (False, True):
                zoo, keras = _find(rows, family, "zoo", jit), _find(rows, family, "keras", jit)
                if zoo and keras:
                    ratio, spread = paired_ratio(zoo, keras)
                    zoo_vs_keras.append({
                        "backend": backend, "family": family, "jit_compile": jit,
                        "zoo_samples_per_s": zoo["train_samples_per_s"],
                        "keras_samples_per_s": keras["train_samples_per_s"],
                        "ratio": ratio, "ratio_quartiles": spread,
                    })
    for family in families:
        per_backend = []
        for backend in _ordered(results):
            rows = results[backend]["rows"]
            torch_eager = _find(rows, family, "torch eager")
            if torch_eager is None:
                continue
            for jit in (False, True):
                zoo = _find(rows, family, "zoo", jit)
                if zoo is None:
                    continue
                ratio, spread = paired_ratio(zoo, torch_eager)
                entry = {"backend": backend, "jit_compile": jit, "ratio": ratio,
                         "ratio_quartiles": spread,
                         "zoo_samples_per_s": zoo["train_samples_per_s"],
                         "torch_eager_samples_per_s": torch_eager["train_samples_per_s"]}
                # Per backend keep its best jit_compile setting.
                if per_backend and per_backend[-1]["backend"] == backend:
                    if ratio > per_backend[-1]["ratio"]:
                        per_backend[-1] = entry
                else:
                    per_backend.append(entry)
        if not per_backend:
            continue
        best = max(per_backend, key=lambda entry: entry["ratio"])
        compiled = None
        for result in results.values():
            eager = _find(result["rows"], family, "torch eager")
            compiled_row = _find(result["rows"], family, "torch.compile")
            if eager and compiled_row:
                compiled = paired_ratio(compiled_row, eager)[0]
        keras_vs_torch.append({
            "family": family, "model": _model_name(results, family),
            "fastest_backend": best["backend"], "jit_compile": best["jit_compile"],
            "ratio": best["ratio"], "ratio_quartiles": best["ratio_quartiles"],
            "zoo_samples_per_s": best["zoo_samples_per_s"],
            "torch_eager_samples_per_s": best["torch_eager_samples_per_s"],
            "backends": per_backend,
            "torch_compile_vs_eager": compiled,
        })
    return {"zoo_vs_keras": zoo_vs_keras, "keras_vs_torch": keras_vs_torch}


def _model_name(results, family):
    for result in results.values():
        for row in result["rows"]:
            if row["family"] == family:
                return row["model"]
    return None


def _ordered(results):
    known = [b for b in BACKEND_ORDER if b in results]
    return known + sorted(b for b in results if b not in known)


def _ratio_text(row):
    if row.get("ratio") is None:
        return "–"
    spread = row.get("ratio_quartiles")
    text = fmt(row["ratio"], 2)
    return f"{text} [{fmt(spread[0], 2)}, {fmt(spread[1], 2)}]" if spread else text


def summary_tables(summary, backends):
    """The two headline tables as Markdown."""
    lines = ["### Zoo model / hand-written Keras, train throughput (target >= 0.97)", "",
             "Median of the per-round ratios [quartiles]: both models ran in every "
             "interleaved round, so each round gives one paired ratio.", ""]
    columns = [(b, jit) for b in backends for jit in (False, True)
               if any(r["backend"] == b and r["jit_compile"] == jit
                      for r in summary["zoo_vs_keras"])]
    families = []
    for row in summary["zoo_vs_keras"]:
        if row["family"] not in families:
            families.append(row["family"])
    lines.append("| family | " + " | ".join(f"{b} jit={jit}" for b, jit in columns) + " |")
    lines.append("| --- |" + " ---: |" * len(columns))
    for family in families:
        cells = []
        for backend, jit in columns:
            match = [r for r in summary["zoo_vs_keras"]
                     if r["family"] == family and r["backend"] == backend
                     and r["jit_compile"] == jit]
            cells.append(_ratio_text(match[0]) if match else "–")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    lines += ["", "### Zoo model (Keras) / plain PyTorch eager, train throughput", "",
              "Per backend: the zoo model at its better `jit_compile` (in brackets) over "
              "plain PyTorch eager timed in the same process; median of per-round ratios "
              "[quartiles]. The highest ratio marks the fastest Keras backend.", "",
              "| family | model | " + " | ".join(backends)
              + " | fastest Keras backend | torch.compile / eager |",
              "| --- | --- |" + " ---: |" * len(backends) + " --- | ---: |"]
    for row in summary["keras_vs_torch"]:
        cells = []
        for backend in backends:
            match = [entry for entry in row["backends"] if entry["backend"] == backend]
            cells.append(f"{_ratio_text(match[0])} ({match[0]['jit_compile']})" if match
                         else "–")
        lines.append(f"| {row['family']} | {row['model']} | " + " | ".join(cells)
                     + f" | {row['fastest_backend']}: {fmt(row['ratio'], 2)} | "
                     f"{fmt(row['torch_compile_vs_eager'], 2)} |")
    return "\n".join(lines)


def merged_markdown(merged):
    backends = _ordered(merged["backends"])
    lines = ["# Benchmarks: zoo vs hand-written Keras vs plain PyTorch", "",
             f"Generated {merged['generated']} by `python -m benchmarks.run --all-backends` "
             "(one process per Keras backend; plain PyTorch is timed inside each, "
             "interleaved with the Keras models). Timings on a shared machine are noisy: "
             "read ratios, not absolute figures.", "",
             summary_tables(merged["summary"], backends), ""]
    for backend in backends:
        lines += [f"## {backend}", "", backend_table(merged["backends"][backend]), ""]
    return "\n".join(lines)
