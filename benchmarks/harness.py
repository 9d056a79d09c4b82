"""Timing utilities: train-step throughput, inference latency, compile time, peak memory.

Every implementation of a family (the zoo model, the hand-written Keras
model, plain PyTorch eager and ``torch.compile``) is timed in the same
process, **interleaved**: after a warm-up chunk each, rounds of
``steps``-step chunks alternate between them (the order rotates every
round), so a busy machine slows them all alike. Figures are medians.

- Train step: Keras models train with ``model.fit`` (the user's path,
  data feeding included); a callback that is not async-safe takes a
  timestamp at every batch end, which makes Keras hand the logs over as
  Python numbers, i.e. waits for the step. The step time is the gap
  between consecutive batch ends (the first step of each chunk is left
  out). PyTorch steps are timed around zero_grad, forward, loss,
  backward, optimizer step and ``loss.item()``.
- Compile time: the very first step minus the median step.
- Latency: ``predict_on_batch`` (Keras) or a forward pass under
  ``inference_mode`` (PyTorch), NumPy in, NumPy out, at each batch size.
- Peak memory: on CPU the process' resident-set high-water mark
  (``VmHWM``), reset before each chunk through ``/proc/self/clear_refs``;
  reported as the peak and as the growth over the resident set just
  before the chunk (every model of the family lives in the same process).
  Where the reset is impossible the never-reset ``ru_maxrss`` is used and
  the table says so. On a GPU: the framework's device allocator peak.
"""

import contextlib
import importlib.metadata
import os
import platform
import resource
import statistics
import time

import keras
import numpy as np

from benchmarks import cases, handwritten_keras

LATENCY_BATCHES = (1, 64)


# --- memory -------------------------------------------------------------------------------------


def _proc_status(field):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0  # kB -> MiB
    except OSError:
        pass
    return None


class MemoryProbe:
    """Peak memory of one framework's work: host RSS on CPU, allocator peak on GPU.

    Args:
        framework: ``"keras"`` (the current Keras backend) or ``"torch"``.
        device: ``"cpu"`` or ``"gpu"``.
    """

    def __init__(self, framework, device="cpu"):
        self.framework = framework
        self.device = device
        self.baseline = 0.0
        if device == "gpu":
            owner = keras.backend.backend() if framework == "keras" else "torch"
            self.kind = f"GPU allocator peak ({owner})"
            self._owner = owner
        else:
            self._owner = None
            self.resettable = self._reset_rss()
            self.kind = ("RSS high-water (reset per chunk)" if self.resettable
                         else "RSS high-water (process lifetime)")

    @staticmethod
    def _reset_rss():
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            return _proc_status("VmHWM") is not None
        except OSError:
            return False

    def reset(self):
        if self._owner is None:
            if self.resettable:
                self._reset_rss()
            self.baseline = _proc_status("VmRSS") or 0.0
            return
        self.baseline = 0.0
        if self._owner == "torch":
            import torch
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.baseline = torch.cuda.memory_allocated() / 2**20
        elif self._owner == "tensorflow":
            import tensorflow as tf
            tf.config.experimental.reset_memory_stats("GPU:0")
            self.baseline = tf.config.experimental.get_memory_info("GPU:0")["current"] / 2**20
        elif self._owner == "jax":
            import jax
            stats = jax.devices()[0].memory_stats() or {}
            self.baseline = stats.get("bytes_in_use", 0) / 2**20

    def peak(self):
        """``(peak MiB, peak minus the baseline at the last reset)``."""
        if self._owner is None:
            peak = _proc_status("VmHWM")
            if peak is None:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        elif self._owner == "torch":
            import torch
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() / 2**20
        elif self._owner == "tensorflow":
            import tensorflow as tf
            peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        else:  # jax: peak_bytes_in_use cannot be reset
            import jax
            peak = (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0) / 2**20
        return peak, max(peak - self.baseline, 0.0)


# --- devices ----------------------------------------------------------------------------------


def keras_device():
    """``"gpu"`` when the current Keras backend sees a GPU, else ``"cpu"``."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    if backend == "jax":
        import jax
        return "gpu" if jax.devices()[0].platform == "gpu" else "cpu"
    if backend == "torch":
        import torch
        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"


def torch_device():
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


# --- implementations --------------------------------------------------------------------------


class _StepTimer(keras.callbacks.Callback):
    """Timestamps of every batch end (not async-safe on purpose: Keras waits for each step)."""

    def __init__(self):
        super().__init__()
        self.begin = None
        self.ends = []

    def on_train_batch_begin(self, batch, logs=None):
        if self.begin is None:
            self.begin = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


class KerasImpl:
    """A compiled Keras model (zoo-built or hand-written) under the current backend."""

    framework = "keras"

    def __init__(self, label, model, jit_compile):
        self.label = label
        self.model = model
        self.jit_compile = jit_compile

    @property
    def params(self):
        return int(self.model.count_params())

    def train_chunk(self, x, y, batch_size):
        """``(first step seconds, [steady step seconds])`` for one pass over ``x``."""
        timer = _StepTimer()
        self.model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                       callbacks=[timer])
        return timer.ends[0] - timer.begin, list(np.diff(timer.ends))

    def predict(self, x):
        return self.model.predict_on_batch(x)


class TorchImpl:
    """The plain PyTorch module for a family: eager or ``torch.compile``."""

    framework = "torch"

    def __init__(self, family, params, compiled=False, autocast=None, learning_rate=1e-3):
        import torch

        from benchmarks import handwritten_torch

        self._torch, self._hand = torch, handwritten_torch
        self.family = family
        self.label = "torch.compile" if compiled else "torch eager"
        self.jit_compile = compiled
        self.device = torch_device()
        self.module = handwritten_torch.build(family, params).to(self.device)
        self.forward = torch.compile(self.module) if compiled else self.module
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=learning_rate)
        self.autocast = {"mixed_float16": torch.float16,
                         "mixed_bfloat16": torch.bfloat16}.get(autocast)
        use_scaler = self.autocast is torch.float16 and self.device == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None

    @property
    def params(self):
        return self._hand.count_params(self.module)

    def _autocast(self):
        if self.autocast is None:
            return contextlib.nullcontext()
        return self._torch.autocast(device_type=self.device.split(":")[0], dtype=self.autocast)

    def train_chunk(self, x, y, batch_size):
        inputs, target = self._hand.to_tensors(self.family, x, y, self.device)
        self.module.train()
        times = []
        for step in range(len(target) // batch_size):
            started = time.perf_counter()
            rows = slice(step * batch_size, (step + 1) * batch_size)
            self.optimizer.zero_grad(set_to_none=True)
            with self._autocast():
                outputs = self.forward(*(tensor[rows] for tensor in inputs))
                loss = self._hand.loss(self.family, outputs, target[rows])
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            loss.item()
            times.append(time.perf_counter() - started)
        return times[0], times[1:]

    def predict(self, x):
        inputs, _ = self._hand.to_tensors(self.family, x, None, self.device)
        self.module.eval()
        with self._torch.inference_mode(), self._autocast():
            return self.forward(*inputs).float().cpu().numpy()


# --- one family -------------------------------------------------------------------------------


def _error_text(error):
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    return text[:200]


def _quartiles(values):
    if len(values) < 2:
        return [values[0], values[0]] if values else [None, None]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return [q[0], q[2]]


def _rotated(items, shift):
    shift %= max(len(items), 1)
    return items[shift:] + items[:shift]


def benchmark_family(family, impls, size="full", batch_size=64, steps=5, rounds=10,
                     warmup_steps=3, latency_repeats=5, latency_batches=LATENCY_BATCHES,
                     device="cpu", seed=0, warm_up=None, log=None):
    """Time ``impls`` (``KerasImpl``/``TorchImpl``) of one family, interleaved.

    ``warm_up``: throwaway implementations trained and called once first.

    Returns one row dict per implementation (see ``benchmarks/README.md``
    for the fields); an implementation that raises gets a row with
    ``error`` set and is left out of the remaining rounds.
    """
    log = log or (lambda message: None)
    case = cases.get_case(family)
    x, y = cases.make_data(case, size, steps * batch_size, seed=seed)
    warm = cases.make_data(case, size, warmup_steps * batch_size, seed=seed + 1)
    state = {id(impl): {"first": None, "steps": [], "rounds": [],
                        "latency": {b: [] for b in latency_batches},
                        "latency_first": {}, "peak": 0.0, "delta": 0.0, "error": None,
                        "probe": MemoryProbe(impl.framework, device)}
             for impl in impls}

    def measured(impl, work):
        record = state[id(impl)]
        record["probe"].reset()
        try:
            return work()
        except Exception as error:  # noqa: BLE001 -- one failing variant must not end the run
            record["error"] = _error_text(error)
            log(f"  {family}/{impl.label} jit_compile={impl.jit_compile}: {record['error']}")
            return None
        finally:
            peak, delta = record["probe"].peak()
            record["peak"], record["delta"] = max(record["peak"], peak), max(record["delta"], delta)

    def active():
        return [impl for impl in impls if state[id(impl)]["error"] is None]

    for impl in warm_up or ():
        # Not reported: pays the process-wide first-use costs (JAX compiles every
        # eager primitive once per process) so they land on no measured model.
        impl.train_chunk(*warm, batch_size)
        for b in latency_batches:
            impl.predict(cases.take(warm[0], 0, b))
    for impl in impls:
        result = measured(impl, lambda: impl.train_chunk(*warm, batch_size))
        if result is not None:
            state[id(impl)]["first"] = result[0]
    for round_index in range(rounds):
        for impl in _rotated(active(), round_index):
            result = measured(impl, lambda: impl.train_chunk(x, y, batch_size))
            if result is not None and result[1]:
                state[id(impl)]["steps"].extend(result[1])
                state[id(impl)]["rounds"].append((round_index, statistics.median(result[1])))

    samples = {b: cases.take(x, 0, b) for b in latency_batches}
    for impl in active():
        for b, batch in samples.items():
            def first_call(batch=batch):
                started = time.perf_counter()
                impl.predict(batch)
                return time.perf_counter() - started
            elapsed = measured(impl, first_call)
            if elapsed is not None:
                state[id(impl)]["latency_first"][b] = elapsed
                measured(impl, lambda batch=batch: impl.predict(batch))
    for round_index in range(rounds):
        for impl in _rotated(active(), round_index):
            def timed_calls():
                for b, batch in samples.items():
                    for _ in range(latency_repeats):
                        started = time.perf_counter()
                        impl.predict(batch)
                        state[id(impl)]["latency"][b].append(time.perf_counter() - started)
            measured(impl, timed_calls)

    rows = []
    for impl in impls:
        record = state[id(impl)]
        step = statistics.median(record["steps"]) if record["steps"] else None
        row = {
            "family": family,
            "model": case.model,
            "implementation": impl.label,
            "framework": impl.framework,
            "jit_compile": impl.jit_compile,
            "params": _safe(lambda: impl.params),
            "batch_size": batch_size,
            "sample": case.sample,
            "steps_timed": len(record["steps"]),
            "train_step_ms": _ms(step),
            "train_step_ms_quartiles": [_ms(v) for v in _quartiles(record["steps"])]
            if record["steps"] else None,
            "train_samples_per_s": round(batch_size / step, 1) if step else None,
            # Median step of each round, for paired ratios between implementations.
            "round_step_ms": {str(r): _ms(v) for r, v in record["rounds"]},
            "first_step_s": _round(record["first"], 3),
            "compile_s": (_round(max(record["first"] - step, 0.0), 3)
                          if step and record["first"] is not None else None),
            "latency_ms": {str(b): _ms(statistics.median(v)) if v else None
                           for b, v in record["latency"].items()},
            "latency_first_call_ms": {str(b): _ms(v) for b, v in record["latency_first"].items()},
            "peak_memory_mb": _round(record["peak"], 1),
            "peak_memory_growth_mb": _round(record["delta"], 1),
            "memory": record["probe"].kind,
            "error": record["error"],
        }
        rows.append(row)
        log(f"  {family:<11} {impl.label:<13} jit={impl.jit_compile!s:<5} "
            f"{row['train_samples_per_s']} samples/s  step {row['train_step_ms']} ms  "
            f"lat {row['latency_ms']}  compile {row['compile_s']} s"
            + (f"  ERROR {row['error']}" if row["error"] else ""))
    return rows


def _safe(function):
    try:
        return function()
    except Exception:  # noqa: BLE001
        return None


def _round(value, digits):
    return None if value is None else round(float(value), digits)


def _ms(seconds):
    return None if seconds is None else round(float(seconds) * 1000.0, 3)


# --- building the implementations -------------------------------------------------------------


def keras_impls(family, size="full", jit_options=(False, True)):
    """The zoo model and the hand-written Keras model, once per ``jit_compile`` value."""
    import zoo

    case = cases.get_case(family)
    params = case.build_params(size)
    impls = []
    handwritten = case.handwritten_params(size)
    for jit in jit_options:
        impls.append(KerasImpl("zoo", zoo.build(case.model, **params, jit_compile=jit), jit))
        impls.append(KerasImpl("keras", handwritten_keras.build(family, handwritten, jit), jit))
    return impls


def warm_up_impls(family, size="full", jit_options=(False, True)):
    """Throwaway hand-written models for ``benchmark_family(warm_up=...)``: one per
    ``jit_compile=False`` (eager primitives are cached process-wide; compiled
    functions are not, so ``True`` needs none)."""
    params = cases.get_case(family).handwritten_params(size)
    return [KerasImpl("warm-up", handwritten_keras.build(family, params, False), False)
            for jit in jit_options if not jit]


def torch_impls(family, size="full", compiled_too=False, mixed_precision=None):
    case = cases.get_case(family)
    params = case.handwritten_params(size)
    learning_rate = 1e-2 if family == "graph" else 1e-3
    impls = [TorchImpl(family, params, False, mixed_precision, learning_rate)]
    if compiled_too:
        impls.append(TorchImpl(family, params, True, mixed_precision, learning_rate))
    return impls


# --- environment ------------------------------------------------------------------------------


def environment():
    """Versions, machine and load: the context a table needs to be read."""
    info = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "device": keras_device(),
        "load_average_1m": _safe(lambda: round(os.getloadavg()[0], 2)),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    for module in ("tensorflow", "jax", "torch"):
        try:
            info[module] = importlib.metadata.version(module)
        except importlib.metadata.PackageNotFoundError:
            info[module] = None
    try:
        import torch
        info["torch_threads"] = torch.get_num_threads()
        info["torch_device"] = torch_device()
    except ImportError:
        pass
    return info
