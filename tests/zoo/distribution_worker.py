"""Data-parallel training against one device, in a process of its own.

The device count must be fixed before the backend starts (JAX's simulated
host devices, TensorFlow's logical CPU devices), so the tests and the
throughput benchmark run this script as a subprocess::

    python tests/zoo/distribution_worker.py --backend jax --devices 4 \
        --models dense_autoencoder,gcn --steps 3

For each model it builds the toy size twice from the same seed, trains one
copy on one device and the other under ``zoo.distribute("data_parallel")``
on the same global batches with plain SGD, and prints one JSON line per model:
the largest weight difference, both losses, and how far the weights moved. Sources of
per-replica randomness (dropout, noise) are switched off where the builder
has a rate for them: the comparison is about the arithmetic of the split.
"""

import argparse
import json
import os
import sys
import time

#: Builder arguments that add randomness a replica draws for its own part of the batch.
RANDOM_RATES = ("dropout", "recurrent_dropout", "embedding_dropout", "head_dropout",
                "attention_dropout")
LEARNING_RATE = 0.05


def _set_devices(backend, devices):
    if backend == "jax":
        # First: XLA stops reading flags at a malformed one (the test workers' flags
        # end with a bare ``intra_op_parallelism_threads=1``).
        os.environ["XLA_FLAGS"] = (f"--xla_force_host_platform_device_count={devices} "
                                   + os.environ.get("XLA_FLAGS", ""))
        os.environ["JAX_PLATFORMS"] = "cpu"
    elif backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * devices)


def graph_parts(spec, params, parts, seed):
    """``parts`` node-classification graphs of one shape stacked on the leading axis."""
    import numpy as np

    x, y = spec.example_data(params, 12, seed)
    rng = np.random.default_rng(seed)
    stacked = {key: np.concatenate([value] * parts) for key, value in x.items()}
    stacked["node_features"] = rng.normal(size=stacked["node_features"].shape).astype(
        "float32")
    labels = rng.integers(0, params["num_classes"], size=(parts,) + y.shape[1:])
    # Unlabelled nodes, more in the first part: the parts' label counts differ, so a
    # masked mean per replica would differ from the global one.
    labels[:, ::3] = -1
    labels[0, 1::3] = -1
    return stacked, labels.astype("int32")


def example(spec, model, batch, seed):
    if spec.family == "graph":
        return graph_parts(spec, model.zoo_config, batch, seed)
    return spec.example_data(model.zoo_config, batch, seed)


def build(name, seed):
    import keras

    import zoo

    spec = zoo.get_spec(name)
    keras.utils.set_random_seed(seed)
    overrides = {key: 0.0 for key in RANDOM_RATES
                 if key in spec.defaults and spec.defaults[key] not in (None, False)}
    model = zoo.build(name, size="toy", **overrides)
    # Plain SGD: the weights then differ exactly as the split batch's gradients do. Adam
    # is blind to a loss scaled by the replica count (it normalises the gradient's
    # scale) and turns float-order noise in near-zero gradients into lr-sized steps.
    config = model.get_compile_config()
    config["optimizer"] = keras.optimizers.serialize(keras.optimizers.SGD(LEARNING_RATE))
    model.compile_from_config(config)
    return model


def compare(name, strategy, steps, batch, seed=0):
    import numpy as np

    import zoo

    spec = zoo.get_spec(name)
    single = build(name, seed)
    start = [w.copy() for w in single.get_weights()]
    x, y = example(spec, single, batch, seed + 1)
    started = time.perf_counter()
    one = single.fit(x, y, batch_size=batch, epochs=steps, shuffle=False, verbose=0)
    single_seconds = time.perf_counter() - started
    with strategy:
        strategy.check_batch_size(batch)
        split = build(name, seed)
        split.set_weights(start)
        started = time.perf_counter()
        many = split.fit(x, y, batch_size=batch, epochs=steps, shuffle=False, verbose=0)
        split_seconds = time.perf_counter() - started
    after_one, after_many = single.get_weights(), split.get_weights()
    diff = max(float(np.max(np.abs(a - b))) if a.size else 0.0
               for a, b in zip(after_one, after_many))
    moved = max(float(np.max(np.abs(a - b))) if a.size else 0.0
                for a, b in zip(start, after_many))
    return {"model": name, "family": spec.family, "max_weight_diff": diff, "moved": moved,
            "loss_single": [float(v) for v in one.history["loss"]],
            "loss_split": [float(v) for v in many.history["loss"]],
            "seconds_single": single_seconds, "seconds_split": split_seconds,
            "replicas": strategy.num_replicas}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", required=True)
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    _set_devices(args.backend, args.devices)

    import zoo

    strategy = zoo.distribute("data_parallel")
    for name in args.models.split(","):
        print(json.dumps(compare(name, strategy, args.steps, args.batch)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
