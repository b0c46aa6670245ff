"""Where a study lives: an SQLite file in ``directory/project_name`` (or a database URL), plus a host lock.

The SQLite file lets ``overwrite=False`` resume an interrupted search and lets several processes on one
machine work on one study. Trials of a process that died are noticed through Optuna's heartbeats: once a
RUNNING trial's heartbeat is older than ``grace_period`` seconds it is marked failed and re-queued with the
same hyperparameters.
"""

import contextlib
import os

from lamina.tuner._deps import optuna

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent starts may overshoot by a trial.
    fcntl = None

STUDY_FILE = "study.db"


class HostLock:
    """An advisory lock on a file, shared by the processes of one machine (re-entrant within a process)."""

    def __init__(self, path):
        self.path = path
        self._fd = None

    def acquire(self):
        if self._fd is not None:
            return
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self):
        if self._fd is None:
            return
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @contextlib.contextmanager
    def held(self):
        self.acquire()
        try:
            yield
        finally:
            self.release()


def make_storage(project_dir, storage=None, heartbeat_interval=5, grace_period=None, max_retry=1):
    """An Optuna RDB storage with heartbeats: ``storage`` (a URL or storage object) or the project's SQLite file."""
    opt = optuna()
    if storage is not None and not isinstance(storage, str):
        return storage
    url = storage or "sqlite:///" + os.path.abspath(os.path.join(project_dir, STUDY_FILE))
    engine_kwargs = {"connect_args": {"timeout": 300}} if url.startswith("sqlite") else {}
    grace = grace_period if grace_period is not None else max(6 * heartbeat_interval, 30)
    retry_cls = getattr(opt.storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry_cls is not None:  # Optuna >= 4.9
        retry = {"heartbeat_stale_trial_callback": retry_cls(max_retry=max_retry)}
    else:
        retry = {"failed_trial_callback": opt.storages.RetryFailedTrialCallback(max_retry=max_retry)}
    return opt.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                                   grace_period=grace, **retry)


def open_study(storage, name, objectives, sampler, pruner):
    """Create the study or load it when it exists (then its objectives must match)."""
    opt = optuna()
    directions = [o.optuna_direction for o in objectives]
    study = opt.create_study(storage=storage, sampler=sampler, pruner=pruner, study_name=name,
                             directions=directions, load_if_exists=True)
    stored = study.user_attrs.get("lamina_objectives")
    mine = [[o.name, o.direction] for o in objectives]
    if stored is None:
        study.set_user_attr("lamina_objectives", mine)
    elif stored != mine:
        raise ValueError(f"The existing study '{name}' optimizes {stored}, but this tuner's objective is {mine}. "
                         "Use another project_name, or overwrite=True to start over.")
    return study
