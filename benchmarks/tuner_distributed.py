"""Trials per minute of a distributed keras-tuner search: one worker vs two.

    python benchmarks/tuner_distributed.py --backend torch --trials 8 --workers 1 2 --repeats 2

For each worker count it starts a chief and that many workers on
127.0.0.1 (keras-tuner's chief/worker mode over gRPC), all running the same
``tuner.search`` over one directory, and reports

- trials/min over the search itself: from the first trial's start of
  training to the last trial's end, so process start-up is left out;
- the wall time of the whole run, start-up included.

Every process gets one compute thread. Workers compete for the same CPU
cores: on a 2-core machine two workers can at best double the rate, and less
when other work shares the machine.
"""

import argparse
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROCESS = textwrap.dedent("""
    import os, sys, time
    import keras, numpy as np
    import tuner

    directory, trials, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # One compute thread per process: workers share the cores, and torch with
    # two threads per process on a busy machine slows down by an order of magnitude.
    if keras.backend.backend() == "torch":
        import torch
        torch.set_num_threads(1)
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    log = os.path.join(directory, "begin_" + os.environ["KERASTUNER_TUNER_ID"])

    class Begin(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            with open(log, "a") as handle:
                handle.write(f"{time.time()}\\n")

    rng = np.random.default_rng(0)
    x = rng.random((2048, 32)).astype("float32")
    tuner.search("dense_autoencoder", (x[:1536], x[:1536]), (x[1536:], x[1536:]),
                 max_trials=trials, epochs=epochs, batch_size=64, directory=directory,
                 overrides={"input_dim": 32}, callbacks=[Begin()],
                 hyperparameters={"depth": 1, "units_0": (16, 64), "code_size": (4, 16)})
""")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(workers, trials, epochs, backend):
    directory = tempfile.mkdtemp(prefix=f"tuner_bench_{workers}w_")
    script = os.path.join(directory, "search.py")
    with open(script, "w") as handle:
        handle.write(_PROCESS)
    port = str(_free_port())
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               OMP_NUM_THREADS="1",
               XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=port,
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.time()
    processes = []
    for tuner_id in ["chief"] + [f"tuner{i}" for i in range(workers)]:
        processes.append(subprocess.Popen(
            [sys.executable, script, directory, str(trials), str(epochs)],
            env={**env, "KERASTUNER_TUNER_ID": tuner_id},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"a search process failed:\n{err[-2000:]}")
    wall = time.time() - start
    project = os.path.join(directory, "dense_autoencoder")
    trial_dirs = glob.glob(os.path.join(project, "trial_*"))
    # Workers log when each trial's training begins; a trial's trial.json is
    # last written when it ends.
    begun = min(float(line) for path in glob.glob(os.path.join(directory, "begin_*"))
                for line in open(path))
    ended = max(os.stat(os.path.join(path, "trial.json")).st_mtime for path in trial_dirs)
    with open(os.path.join(project, "result.json")) as handle:
        statuses = [row["status"] for row in json.load(handle)["trials"]]
    return {"workers": workers, "trials": len(trial_dirs),
            "completed": statuses.count("COMPLETED"), "search_s": round(ended - begun, 1),
            "trials_per_min": round(60 * len(trial_dirs) / (ended - begun), 2),
            "wall_s": round(wall, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1,
                        help="alternate the worker counts this many times")
    args = parser.parse_args(argv)
    for _ in range(args.repeats):
        for workers in args.workers:
            print(json.dumps({"backend": args.backend, **run(workers, args.trials, args.epochs,
                                                              args.backend)}), flush=True)


if __name__ == "__main__":
    main()
