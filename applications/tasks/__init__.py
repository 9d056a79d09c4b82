"""Application tasks: data, training, evaluation and plots for every model family.

>>> from applications import tasks
>>> data = tasks.load_task_data("sentiment", limit=64)
>>> model = data.build()
>>> history = model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0)
>>> sorted(data.evaluate(model))
['accuracy', 'loss']
>>> metrics = tasks.run_task("reconstruction", epochs=1, limit=64, out="runs/ae", verbose=0)
>>> import os
>>> sorted(os.listdir("runs/ae"))[:3]          # the claim marker records the run
['.zoo-owner.json', 'metrics.json', 'model.keras']
"""

from applications.errors import DatasetUnavailableError
from applications.tasks.base import (DATA_OPTIONS, RUN_KIND, TASKS, DatasetInfo, LoadRequest,
                                     Task, TaskData, check_data_dir, check_run_dir, get_task,
                                     load_task_data, prepare_run_dir, register_task,
                                     release_run_dir, run_task, save_model, write_metrics)
# Registration order is the order `zoo tasks` lists them in.
from applications.tasks import text, sequences, images, graphs  # noqa: F401,E402


def run_reversal(model="lstm_seq2seq", epochs=None, out=None, seed=0, limit=None, **kwargs):
    """``run_task("reversal", ...)``: train ``model`` to reverse digit strings."""
    return run_task("reversal", model=model, epochs=epochs, out=out, seed=seed, limit=limit,
                    **kwargs)


__all__ = ["DATA_OPTIONS", "RUN_KIND", "TASKS", "DatasetInfo", "DatasetUnavailableError",
           "LoadRequest", "Task", "TaskData", "check_data_dir", "check_run_dir", "get_task",
           "load_task_data", "prepare_run_dir", "register_task", "release_run_dir",
           "run_reversal", "run_task", "save_model", "write_metrics"]
