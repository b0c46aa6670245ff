"""``lamina.callbacks``: hooks into fit/evaluate/predict."""

from lamina.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from lamina.callbacks.callback import Callback, CallbackList, History, ProgbarLogger  # noqa: F401
from lamina.callbacks.csv_logger import CSVLogger  # noqa: F401
from lamina.callbacks.early_stopping import EarlyStopping  # noqa: F401
from lamina.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from lamina.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from lamina.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from lamina.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: F401
from lamina.callbacks.remote_monitor import RemoteMonitor  # noqa: F401
from lamina.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
from lamina.callbacks.swap_ema_weights import SwapEMAWeights  # noqa: F401
from lamina.callbacks.tensorboard import TensorBoard  # noqa: F401
