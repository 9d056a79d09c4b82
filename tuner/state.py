"""Crash-safe keras-tuner state: atomic JSON writes and repair on reload.

keras-tuner (1.4) writes ``oracle.json``, ``trial_*/trial.json`` and
``<tuner_id>.json`` in place (``open(path, "w")`` then ``write``). A process
killed while writing leaves a truncated file, and the next run dies in
``json.loads``. Our oracles and tuner write to a temporary file in the same
folder, ``fsync`` it and ``os.replace`` it over the old one, so a reader sees
either the old state or the new one, never half of either.

Between two writes a kill can still leave the files out of step (a trial's
file says COMPLETED but ``oracle.json`` still lists it as running, or a
trial file exists that ``oracle.json`` has never heard of). ``repair``
reconciles them on reload: finished trials stay finished and are not run
again; a trial that was running is queued to run again under the same id.
"""

import contextlib
import glob
import json
import os
import tempfile

from tuner import compat

_Status = compat.TrialStatus
_TMP_SUFFIX = ".tmp"


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` so that a crash leaves old or new, never half."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=_TMP_SUFFIX,
                               dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path, obj):
    text = json.dumps(obj)
    write_text_atomic(path, text)
    return text


def remove_stale_temporaries(project_dir):
    """Delete temporary files a killed writer left behind."""
    for pattern in (".*" + _TMP_SUFFIX, os.path.join("trial_*", ".*" + _TMP_SUFFIX)):
        for path in glob.glob(os.path.join(project_dir, pattern)):
            with contextlib.suppress(OSError):
                os.unlink(path)


def repair(oracle):
    """Reconcile a reloaded oracle with its trial files after a crash."""
    ended = set(oracle.end_order)
    for trial_id in sorted(oracle.trials):
        trial = oracle.trials[trial_id]
        if trial_id not in oracle.start_order:
            oracle.start_order.append(trial_id)
        if trial.status in (_Status.COMPLETED, _Status.FAILED):
            # Finished, though oracle.json may not have heard: never re-run it.
            compat.forget_retry(oracle, trial_id)
            if trial_id not in ended:
                oracle.end_order.append(trial_id)
                ended.add(trial_id)
            compat.mark_ran(oracle, trial_id)
        elif trial.status in (_Status.RUNNING, _Status.INVALID):
            # Interrupted: run it again under the same id, once.
            compat.queue_retry(oracle, trial_id)
        compat.mark_tried(oracle, trial.hyperparameters.values)
    oracle.ongoing_trials = {}


class CrashSafeOracleMixin(compat.OracleStateHooks):
    """Put before a keras-tuner ``Oracle`` class: atomic saves, repaired reloads."""

    def write_state(self, path, state):
        write_json_atomic(path, state)

    def before_reload(self, project_dir):
        remove_stale_temporaries(project_dir)

    def after_reload(self):
        repair(self)
