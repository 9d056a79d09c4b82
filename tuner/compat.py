"""Every private keras-tuner and JAX API the tuner uses, in one module.

Written against keras-tuner 1.4.8 (the newest release when this was
written; 1.4.x has kept these names since 1.4.0) and JAX 0.4-0.7. An upgrade
that moves one of them touches this file only: everything else in
``tuner/`` uses the public names defined here.

Private keras-tuner hooks (``Oracle._save_trial``, ``Tuner._try_build``,
...) are overridden in the two mixins below, which hand them on to methods
with public names (``write_state``, ``try_build``, ...).
"""

import contextlib
import os

import keras_tuner
from keras_tuner.src import config as _config
from keras_tuner.src.distribute import utils as _dist_utils
from keras_tuner.src.engine import trial as _trial

#: keras-tuner's trial statuses (``RUNNING``, ``COMPLETED``, ``FAILED``, ...).
#: keras-tuner 1.4.8: ``keras_tuner.src.engine.trial.TrialStatus``.
TrialStatus = _trial.TrialStatus


def is_int(hyperparameter):
    """Whether ``hyperparameter`` (an item of ``hp.space``) is an ``hp.Int``.

    keras-tuner 1.4.8 exports the class only as
    ``keras_tuner.engine.hyperparameters.Int``.
    """
    return isinstance(hyperparameter, keras_tuner.engine.hyperparameters.Int)


def has_chief_oracle():
    """True in a distributed search (``KERASTUNER_ORACLE_IP`` and ``_PORT`` set).

    keras-tuner 1.4.8: ``keras_tuner.src.distribute.utils.has_chief_oracle``.
    """
    return _dist_utils.has_chief_oracle()


def is_chief_oracle():
    """True in the process that holds the oracle (``KERASTUNER_TUNER_ID=chief``).

    keras-tuner 1.4.8: ``keras_tuner.src.distribute.utils.is_chief_oracle``.
    """
    return _dist_utils.is_chief_oracle()


@contextlib.contextmanager
def debug_traces(enabled):
    """Within the block, keras-tuner prints failed trials' tracebacks only if ``enabled``.

    keras-tuner 1.4.8 reads the module global ``keras_tuner.src.config.DEBUG``.
    """
    before = _config.DEBUG
    _config.DEBUG = bool(enabled)
    try:
        yield
    finally:
        _config.DEBUG = before


def start_oracle_server(oracle, address):
    """Serve ``oracle`` over gRPC at ``address``; returns ``(server, servicer)``.

    keras-tuner 1.4.8: ``keras_tuner.src.protos`` and
    ``keras_tuner.src.distribute.oracle_chief.OracleServicer`` (its own
    ``start_server`` polls every 20 s, too slow for short searches).
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(address) == 0:
        raise RuntimeError(f"The chief could not listen on {address}. Received: address={address}")
    server.start()
    return server, servicer


def chief_may_stop(oracle, servicer):
    """True once every worker of a distributed search has been told to stop.

    keras-tuner 1.4.8: ``OracleServicer.stop_triggered`` and
    ``keras_tuner.src.distribute.oracle_chief.exit_chief``.
    """
    from keras_tuner.src.distribute import oracle_chief

    return servicer.stop_triggered and oracle_chief.exit_chief(oracle)


def forget_retry(oracle, trial_id):
    """Take ``trial_id`` off the oracle's queue of trials to run again.

    keras-tuner 1.4.8: ``Oracle._retry_queue`` (a list of trial ids).
    """
    oracle._retry_queue = [t for t in oracle._retry_queue if t != trial_id]


def queue_retry(oracle, trial_id):
    """Queue ``trial_id`` to run again under the same id (once).

    keras-tuner 1.4.8: ``Oracle._retry_queue``.
    """
    if trial_id not in oracle._retry_queue:
        oracle._retry_queue.append(trial_id)


def mark_ran(oracle, trial_id):
    """Count ``trial_id`` as run at least once (so it is not retried as new).

    keras-tuner 1.4.8: ``Oracle._run_times`` (a ``defaultdict(int)``).
    """
    oracle._run_times[trial_id] = max(oracle._run_times[trial_id], 1)


def mark_tried(oracle, values):
    """Record hyperparameter ``values`` as tried, so the oracle does not propose them again.

    keras-tuner 1.4.8: ``Oracle._tried_so_far`` and ``Oracle._compute_values_hash``.
    """
    oracle._tried_so_far.add(oracle._compute_values_hash(values))


def was_tried(oracle, values):
    """Whether hyperparameter ``values`` were proposed before in this search.

    keras-tuner 1.4.8: ``Oracle._tried_so_far`` and ``Oracle._compute_values_hash``.
    """
    return oracle._compute_values_hash(values) in oracle._tried_so_far


def stopped_trial(oracle, tuner_id):
    """The trial that tells ``tuner_id`` to stop asking (no new trial will start).

    keras-tuner 1.4.8: a ``Trial`` with status ``STOPPED``; ``Oracle.tuner_ids``
    lists the tuners still searching (a chief waits for it to empty).
    """
    oracle.tuner_ids.discard(tuner_id)
    return _trial.Trial(oracle.get_space(), status=TrialStatus.STOPPED)


def metrics_at_best_epoch(history, objective):
    """Every metric of a ``keras.callbacks.History`` at the objective's best epoch.

    keras-tuner 1.4.8: ``keras_tuner.src.engine.tuner_utils.convert_to_metrics_dict``.
    """
    from keras_tuner.src.engine import tuner_utils

    return dict(tuner_utils.convert_to_metrics_dict(history, objective))


def clear_jax_caches():
    """Drop JAX's Python-level caches (compiled functions of finished trials).

    ``jax.clear_caches()`` also drops the compiled weight initialisers
    (~25% slower per trial); JAX 0.4-0.7's private
    ``jax._src.util.clear_all_caches`` clears only the Python-level caches
    (~4% slower). Falls back to the public function if it moves.
    """
    try:
        from jax._src import util

        util.clear_all_caches()
    except (ImportError, AttributeError):
        import jax

        jax.clear_caches()


class OracleStateHooks:
    """Put before a keras-tuner ``Oracle`` class: its state writes and reload, public.

    keras-tuner 1.4.8 writes ``oracle.json`` in ``Oracle.save`` and each
    ``trial_*/trial.json`` in ``Oracle._save_trial``; both go through
    ``write_state(path, state)`` here. ``reload`` runs
    ``before_reload(project_dir)`` and ``after_reload()`` around
    keras-tuner's own.
    """

    def write_state(self, path, state):
        raise NotImplementedError

    def before_reload(self, project_dir):
        pass

    def after_reload(self):
        pass

    def save(self):
        self.write_state(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        self.write_state(path, trial.get_state())

    def reload(self):
        self.before_reload(self._project_dir)
        super().reload()
        self.after_reload()


class TunerHooks:
    """Put before ``keras_tuner.Tuner``: its private build and save hooks, public.

    keras-tuner 1.4.8 hooks and what they call here:

    - ``_populate_initial_space`` -> ``declare_space(hp)`` (then the oracle's
      space is updated with ``hp``);
    - ``_try_build(hp)`` -> ``try_build(hp)`` (default: keras-tuner's);
    - ``_build_hypermodel(hp)`` -> ``build_hypermodel(hp)`` (default:
      keras-tuner's, the hypermodel's ``build`` plus compile overrides);
    - ``save`` -> ``write_state(path, state)`` for the tuner's own file
      (the oracle saves itself unless this process is a worker);
    - ``_is_worker`` -> ``is_worker()``; ``_get_checkpoint_fname`` ->
      ``checkpoint_path(trial_id)``.
    """

    def declare_space(self, hp):
        pass

    def _populate_initial_space(self):
        hp = self.oracle.get_space()
        self.declare_space(hp)
        self.oracle.update_space(hp)

    def try_build(self, hp):
        return super()._try_build(hp)

    def _try_build(self, hp):
        return self.try_build(hp)

    def build_hypermodel(self, hp):
        return super()._build_hypermodel(hp)

    def _build_hypermodel(self, hp):
        return self.build_hypermodel(hp)

    def write_state(self, path, state):
        raise NotImplementedError

    def save(self):
        if not self.is_worker():
            self.oracle.save()
        self.write_state(self._get_tuner_fname(), self.get_state())

    def is_worker(self):
        return self._is_worker()

    def checkpoint_path(self, trial_id):
        return self._get_checkpoint_fname(trial_id)
