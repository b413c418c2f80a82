"""What every explorer function accepts: a run as a name, a path or a `Run`, and latents as
numpy (d,) or (m, d). One place turns them into a `Run` and a torch batch, so pages pass plain
values and never import torch."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlib.store.run_folder import Run, find_run


def as_run(run: str | Path | Run) -> Run:
    return run if isinstance(run, Run) else find_run(run)


def as_latents(z: Any) -> torch.Tensor:
    """Latents as a float32 (m, d) tensor; one latent (d,) becomes a batch of one."""
    t = torch.as_tensor(np.asarray(z, dtype=np.float32))
    return t.unsqueeze(0) if t.dim() == 1 else t
