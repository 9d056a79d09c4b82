"""``zoo tune MODEL --task TASK``: a keras-tuner search on an application task's data.

The tuner knows nothing of the applications; the ``zoo`` command passes
``task_data`` to ``tuner.cli.run`` so ``--task`` loads the same data
``zoo run`` trains on, with the task's suggested model sizes for every
parameter the model's search space does not search.
"""

from applications import tasks
from tuner.hypermodel import ZooHyperModel


def task_data(args, spec, overrides, edits):
    """``(train, validation, overrides, description)`` for ``args.task``; ``None`` without it.

    ``overrides`` (the user's ``--set`` values) win over the data's fixed
    parameters, which win over the task's suggested sizes; a suggested size
    is left out when the space searches it or the user edits it (``--hp``).
    """
    if not getattr(args, "task", None):
        return None
    if getattr(args, "toy", False):
        raise ValueError("--toy and --task name two data sources; give one. "
                         f"Received: --toy, --task {args.task}")
    from applications.compare import data_options

    data = tasks.load_task_data(args.task, model=spec.name, dataset=args.dataset,
                                limit=args.limit, seed=args.seed, batch_size=args.batch_size,
                                data=getattr(args, "data", None), **data_options(args))
    declared = ZooHyperModel(spec.name).declared_space()
    suggested = {key: value for key, value in data.suggested_params().items()
                 if key not in declared and key not in edits}
    overrides = {**suggested, **data.build_overrides, **overrides}
    # The pipelines are not read to be fingerprinted: the description (with
    # everything that selects the examples) identifies the data of a search.
    limit = f", limit {args.limit}" if args.limit is not None else ""
    source = f" from {args.data}" if getattr(args, "data", None) else ""
    return (data.train, data.validation, overrides,
            f"task {args.task}: {data.info.get('dataset')}{source}{limit}")
