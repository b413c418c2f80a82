"""A `python -m ganlib` whose rank 1 fails in its second epoch: what test_distributed runs under
torchrun to check that a failing rank ends the job with its error on rank 0."""
import os
import sys

from ganlib.cli import main
from ganlib.engine.trainer import Trainer

if os.environ.get("RANK") == "1":
    original = Trainer.train_epoch

    def failing(self, cb, t_run):
        if self.epoch == 1:
            raise RuntimeError("injected failure")
        return original(self, cb, t_run)

    Trainer.train_epoch = failing

sys.exit(main(sys.argv[1:]))
