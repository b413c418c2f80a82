"""Old import path, kept for scripts: training now lives in `ganlib.engine` (`training.train`,
`trainer.Trainer`, `callbacks.Callbacks`)."""
from ganlib.engine.callbacks import Callbacks, TrainProgress, TrainResult  # noqa: F401
from ganlib.engine.trainer import Trainer  # noqa: F401
from ganlib.engine.training import prepare, train  # noqa: F401
