"""Old import path, kept for scripts: the training loop now lives in `ganlib.engine.trainer`."""
from ganlib.engine.trainer import *  # noqa: F401,F403
from ganlib.engine.trainer import Callbacks, TrainResult, Trainer, prepare, train  # noqa: F401
