"""``--distribute data_parallel`` for ``zoo run``, ``zoo compare`` and ``zoo tune --task``.

The model is built, compiled and trained inside ``zoo.distribute`` (see
``zoo.distribution``); what the tasks add is the shape of their batches:

- Every training step's batch must split evenly across the devices. Tasks
  whose batches hold examples need a batch size that is a multiple of the
  device count, and the last, smaller batch of an epoch is left out (the
  usual rule of data-parallel training). Graph tasks put one padded graph
  batch on the leading axis; training stacks as many of them per step as
  there are devices (graph classification: that many padded batches of
  graphs; node classification: the ``--sample`` parts, one per device).
  Full-graph node classification has a single graph per step and is refused:
  sample it with ``--sample``.
- Validation and test batches are not split on JAX: they run on one device
  at the end of each epoch (the weights are the same on every device), so
  every example counts. TensorFlow's strategy takes uneven batches as they are.
"""

import zoo
from zoo.distribution import OneDeviceValidation, check_strategy


def check(distribute, task, batch_size, sample):
    """The ``Distribution`` for a run (``None`` without ``distribute``), checked before any
    work: the strategy and backend, and that the task's batches can be split."""
    if distribute is None:
        return None
    check_strategy(distribute)
    strategy = zoo.distribute(distribute)
    replicas = strategy.num_replicas
    graph = "graph" in task.families
    if replicas > 1 and task.name == "node_classification" and not sample:
        raise ValueError(
            f"{distribute} splits every step across {replicas} devices, but full-graph node "
            "classification has one graph per step: sample it, e.g. --sample 15,10 (each "
            "step's seed nodes are split into one subgraph per device). "
            "Received: sample=None")
    if not graph:
        strategy.check_batch_size(batch_size or task.default_batch_size)
    return strategy


def fit_arguments(strategy, data, batch_size, graph=False):
    """``(train, validation_data, callbacks)`` for ``model.fit`` under ``strategy``."""
    if strategy is None:
        return data.train, data.validation, []
    train = strategy.split_batches(data.train, batch_size, graph)
    if strategy.backend == "jax" and strategy.num_replicas > 1:
        return train, None, [OneDeviceValidation(data.validation)]
    return train, data.validation, []


def describe(strategy):
    """What ``metrics.json`` records of the distribution."""
    return {"strategy": strategy.strategy, "backend": strategy.backend,
            "devices": strategy.devices, "replicas": strategy.num_replicas}
