"""Training on several devices with the engines Keras already has (``zoo.distribute``).

``data_parallel`` keeps one copy of the weights on every local device and
splits each global batch across them along its leading axis:

- **JAX**: ``keras.distribution.DataParallel`` over all local devices (GPUs,
  TPUs, or the CPU's host devices). The step is one program over the global
  batch, so the loss, its gradient, the learning rate and the metrics are
  exactly those of one device. Several hosts: set
  ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (``host:port`` of every process,
  comma-separated), ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and
  ``KERAS_DISTRIBUTION_PROCESS_ID`` on each host; ``distribute`` then calls
  ``keras.distribution.initialize`` (``jax.distributed.initialize``) first and
  uses the devices of all of them.
- **TensorFlow**: ``tf.distribute.MirroredStrategy`` over the GPUs, or over the
  logical CPU devices when there is no GPU (the CPU counts as one device
  unless it was split with ``tf.config.set_logical_device_configuration``).
  Each replica computes its part of the batch; Keras divides each replica's
  loss by the number of replicas and sums the gradients, so a mean over the
  batch is the global mean. The zoo's padding-masked losses divide by the
  real tokens of the *global* batch (``masked_divisor``) and the VAEs' own
  loss is divided like Keras' (``replica_loss``), so they do too.
- **torch**: refused. Data parallelism on torch is one process per device
  (``torch.distributed``, DistributedDataParallel, started by ``torchrun``),
  which Keras' torch guide wires by hand around its own training loop; the
  zoo does not launch processes.

Build, compile and train inside the context::

    with zoo.distribute("data_parallel") as strategy:
        strategy.check_batch_size(64)
        model = zoo.build("lstm_classifier")
        model.fit(dataset, epochs=3)

>>> import zoo
>>> zoo.distribute("model_parallel")
Traceback (most recent call last):
...
ValueError: Unknown distribution 'model_parallel'; the zoo offers: data_parallel. \
Received: strategy='model_parallel'
"""

import os

import keras

#: The distributions ``distribute`` offers.
STRATEGIES = ("data_parallel",)
#: The environment of a multi-host JAX run (``keras.distribution.initialize`` reads it).
MULTI_HOST_ENV = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                  "KERAS_DISTRIBUTION_PROCESS_ID")
TORCH_REFUSAL = (
    "data_parallel on the torch backend needs one process per device (torch.distributed "
    "DistributedDataParallel under torchrun, as in Keras' torch distributed-training guide), "
    "which the zoo does not launch; use KERAS_BACKEND=jax or tensorflow for --distribute. "
    "Received: backend='torch'")


class Distribution:
    """A device distribution to build and train inside (``with``); see the module.

    Attributes:
        strategy: ``"data_parallel"``.
        backend: the Keras backend it was made for.
        devices: the devices, as the backend names them.
        engine: the backend's own object (``keras.distribution.DataParallel``
            or ``tf.distribute.MirroredStrategy``).
    """

    def __init__(self, strategy, backend, devices, engine):
        self.strategy = strategy
        self.backend = backend
        self.devices = list(devices)
        self.engine = engine
        self._entered = []

    @property
    def num_replicas(self):
        """How many parts every global batch is split into."""
        return len(self.devices)

    def check_batch_size(self, batch_size, what="batch size"):
        """``batch_size`` if it splits evenly across the devices, else a ``ValueError``."""
        if (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                or batch_size <= 0 or batch_size % self.num_replicas):
            raise ValueError(
                f"{self.strategy} splits each batch across {self.num_replicas} devices: the "
                f"{what} must be a positive multiple of {self.num_replicas}. "
                f"Received: {what.replace(' ', '_')}={batch_size!r}")
        return batch_size

    def split_batches(self, dataset, batch_size, graph=False):
        """A ``tf.data`` pipeline with every batch splittable across the devices: graph
        batches (leading axis 1) regrouped one per device and step; example batches
        of ``batch_size`` (a multiple of the device count) without the smaller last
        one, as data-parallel training usually drops it.

        Raises:
            ValueError: not one full step's worth of training data is left.
        """
        return _split_batches(dataset, self, batch_size, graph)

    @staticmethod
    def first_batch_rows(dataset):
        """The leading size of ``dataset``'s first batch (it reads one batch)."""
        for batch in dataset.take(1):
            return _rows(batch)
        raise ValueError("The training dataset is empty. Received: 0 batches")

    def split_arrays(self, x, y, batch_size):
        """``(x, y)`` arrays (or dicts of them) cut to whole batches of ``batch_size``."""
        self.check_batch_size(batch_size)
        rows = _rows(x)
        keep = rows - rows % batch_size if self.num_replicas > 1 else rows
        if keep == 0:
            raise ValueError(f"data_parallel needs at least one full batch of {batch_size} "
                             f"examples. Received: {rows} examples")
        return _take(x, keep), _take(y, keep)

    def scope(self):
        """The context itself (the ``strategy.scope()`` protocol)."""
        return self

    def __enter__(self):
        if self.backend == "jax":
            self._entered.append(keras.distribution.distribution())
            keras.distribution.set_distribution(self.engine)
        else:
            scope = self.engine.scope()
            scope.__enter__()
            self._entered.append(scope)
        return self

    def __exit__(self, *exc):
        entered = self._entered.pop()
        if self.backend == "jax":
            keras.distribution.set_distribution(entered)
        else:
            entered.__exit__(*exc)
        return False

    def __repr__(self):
        return (f"Distribution({self.strategy!r}, backend={self.backend!r}, "
                f"devices={self.devices})")


def _leading(dataset):
    leaves = [spec for spec in _flatten(dataset.element_spec)]
    sizes = {spec.shape[0] if spec.shape.rank else None for spec in leaves}
    return sizes.pop() if len(sizes) == 1 else None


def _flatten(structure):
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _flatten(value)]
    if isinstance(structure, (tuple, list)):
        return [leaf for value in structure for leaf in _flatten(value)]
    return [structure]


def _split_batches(dataset, strategy, batch_size, graph=False):
    """``dataset`` with every batch splittable across ``strategy``'s devices: graph
    batches regrouped one per device and step, example batches of ``batch_size``
    without the smaller last one.

    Raises:
        ValueError: not one full step's worth of training data is left.
    """
    replicas = strategy.num_replicas
    if not hasattr(dataset, "element_spec"):
        # A keras.utils.PyDataset (zoo.NeighborSampler): its batches are built to split
        # (the sampler's ``parts``); Keras says so if one does not.
        return dataset
    leading = _leading(dataset)
    if replicas == 1 or (leading is not None and leading % replicas == 0):
        return dataset
    size = replicas if graph else batch_size
    dataset = dataset.unbatch().batch(size, drop_remainder=True)
    if not any(True for _ in dataset.take(1)):
        what = "graph batches" if graph else "examples"
        raise ValueError(f"data_parallel needs at least {size} training {what} per step "
                         f"({replicas} devices); this training set has fewer. "
                         f"Received: batch_size={size}")
    return dataset


class OneDeviceValidation(keras.callbacks.Callback):
    """``val_*`` logs from evaluating ``data`` on one device at each epoch's end.

    For JAX's ``DataParallel``, which cannot split a batch unevenly: pass the
    validation data here instead of ``validation_data`` (the weights are the
    same on every device, so every validation example counts).
    """

    def __init__(self, data):
        super().__init__()
        self.data = data

    def __deepcopy__(self, memo):
        # keras-tuner copies the callbacks of every trial; the data is shared.
        return type(self)(self.data)

    def on_epoch_end(self, epoch, logs=None):
        active = keras.distribution.distribution()
        keras.distribution.set_distribution(None)
        try:
            data = self.data if isinstance(self.data, tuple) else (self.data,)
            scores = self.model.evaluate(*data, verbose=0, return_dict=True)
        finally:
            keras.distribution.set_distribution(active)
        if logs is not None:
            logs.update({f"val_{key}": value for key, value in scores.items()})


def _rows(tree):
    if isinstance(tree, dict):
        return _rows(next(iter(tree.values())))
    if isinstance(tree, (list, tuple)):
        return _rows(tree[0])
    return int(tree.shape[0]) if hasattr(tree, "shape") else len(tree)


def _take(tree, rows):
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {key: _take(value, rows) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_take(value, rows) for value in tree)
    return tree[:rows]


def check_strategy(strategy):
    """``strategy`` if the zoo offers it, else a one-line ``ValueError``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown distribution {strategy!r}; the zoo offers: "
                         f"{', '.join(STRATEGIES)}. Received: strategy={strategy!r}")
    return strategy


def distribute(strategy="data_parallel", devices=None):
    """A ``Distribution`` over the local devices (all of them, or the first ``devices``).

    Args:
        strategy: ``"data_parallel"``.
        devices: ``None`` (every device), a count (the first ones) or a list
            of device names.

    Raises:
        ValueError: an unknown strategy, the torch backend, or a device
            count the machine does not have.
    """
    check_strategy(strategy)
    backend = keras.backend.backend()
    if backend == "torch":
        raise ValueError(TORCH_REFUSAL)
    if backend == "jax":
        if all(os.environ.get(name) for name in MULTI_HOST_ENV):
            _initialize_multi_host()
        available = keras.distribution.list_devices()
    elif backend == "tensorflow":
        import tensorflow as tf

        available = [device.name for device in tf.config.list_logical_devices("GPU")] or \
            [device.name for device in tf.config.list_logical_devices("CPU")]
    else:
        raise ValueError(f"data_parallel needs the jax or tensorflow backend. "
                         f"Received: backend={backend!r}")
    chosen = _choose(available, devices)
    if backend == "jax":
        engine = keras.distribution.DataParallel(devices=chosen)
    else:
        engine = tf.distribute.MirroredStrategy(devices=chosen)
    return Distribution(strategy, backend, chosen, engine)


_INITIALIZED = []


def _initialize_multi_host():
    if not _INITIALIZED:
        keras.distribution.initialize()
        _INITIALIZED.append(True)


def _choose(available, devices):
    if devices is None:
        return list(available)
    if isinstance(devices, int) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ValueError(f"devices must be between 1 and the {len(available)} devices "
                             f"this machine has ({', '.join(available)}). "
                             f"Received: devices={devices}")
        return list(available[:devices])
    if isinstance(devices, (list, tuple)) and devices and all(isinstance(d, str)
                                                              for d in devices):
        return list(devices)
    raise ValueError("devices must be None, a device count or a list of device names. "
                     f"Received: devices={devices!r}")


def num_replicas_in_step():
    """How many replicas run the current training step side by side: more than one only
    inside a TensorFlow ``MirroredStrategy`` step (JAX runs one global program)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def masked_divisor(count):
    """What a loss with Keras' ``reduction="sum"`` divides its masked sum by to give the
    mean over the real entries of the *global* batch.

    On one device (and on JAX, one program over the global batch) it is
    ``max(count, 1)``. In a TensorFlow replica Keras does not scale a summed
    loss and sums the replicas' gradients, so the divisor is the count over
    all replicas.
    """
    if num_replicas_in_step() == 1:
        return keras.ops.maximum(count, 1.0)
    import tensorflow as tf

    total = tf.distribute.get_replica_context().all_reduce("sum", tf.stop_gradient(count))
    return keras.ops.maximum(total, 1.0)


def replica_loss(loss):
    """A model's own batch-mean loss (``compute_loss``) as one replica's share: divided by
    the replicas of a TensorFlow step, whose gradients Keras sums (Keras does this
    for its compiled losses); unchanged elsewhere."""
    replicas = num_replicas_in_step()
    return loss if replicas == 1 else loss / float(replicas)


def first_replica_batch(strategy, batch):
    """The first replica's part of a distributed ``batch`` (its dtypes and ranks kept)."""
    import tensorflow as tf

    def first(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    return tf.nest.map_structure(first, batch)
