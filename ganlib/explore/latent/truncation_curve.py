"""The measured truncation curve: FID, precision and recall against the truncation value,
through the one evaluation pipeline (`metrics.evaluation.evaluate_generator`) on the one dataset
cache (`data.cached_run_data`). A curve is cached in `Run.explorer_dir` per checkpoint, method,
extractor and N, stamped with the checkpoint file's size and mtime, so it is measured once."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from ganlib.core.atomic import atomic_write_text
from ganlib.data import cached_run_data, data_fields
from ganlib.explore.latent.inputs import as_run
from ganlib.explore.latent.truncation import TRUNCATION_METHODS, W_METHOD, Truncated, check_method
from ganlib.explore.sampling import get_generator
from ganlib.metrics.evaluation import NO_EXTRACTOR, Progress, evaluate_generator
from ganlib.metrics.extractor_choice import choose_for_config
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.run_folder import Run

CURVE_N = 1000  # generated (and real) images per point of the truncation curve
# Points of the measured curves: psi for "scale", the threshold for "resample" (inf = off).
CURVE_VALUES = {"scale": (0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0),
                "resample": (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
                "w": (0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0)}


@dataclass
class TruncationCurve:
    method: str
    rows: list[dict[str, Any]]  # one per value: value, fid, fid_std, precision, recall, kid, ...
    n: int
    extractor: str
    checkpoint: str
    epoch: int
    note: str = ""  # e.g. the extractor fallback, or N capped by the data size
    stamp: dict[str, Any] = field(default_factory=dict)  # the checkpoint's size and mtime

    def column(self, name: str) -> list[float]:
        return [float(r.get(name, float("nan"))) for r in self.rows]

    @property
    def values(self) -> list[float]:
        return self.column("value")


def _stamp(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime": st.st_mtime}


def resolve(run: str | Path | Run, extractor: str = "auto") -> tuple[str, str]:
    """The extractor that judges the run's data (`extractor_choice`): (its name, or "none" when
    none fits, and the note that says why)."""
    choice = choose_for_config(extractor, as_run(run).config())
    return choice.name or NO_EXTRACTOR, choice.note


def curve_path(run: str | Path | Run, checkpoint: str | Path | None = None, *, method: str = "scale",
               n: int = CURVE_N, extractor: str = "auto") -> Path:
    run = as_run(run)
    ck = find_checkpoint(run, checkpoint)
    name = resolve(run, extractor)[0]
    return run.explorer_dir / f"truncation-{ck.stem}-{method}-{name}-n{int(n)}.json"


def load_truncation_curve(run: str | Path | Run, checkpoint: str | Path | None = None, *, method: str = "scale",
                          n: int = CURVE_N, extractor: str = "auto") -> Optional[TruncationCurve]:
    """The cached curve when it was measured on this very checkpoint file, else None."""
    run = as_run(run)
    ck = find_checkpoint(run, checkpoint)
    path = curve_path(run, ck, method=method, n=n, extractor=extractor)
    try:
        d = json.loads(path.read_text())
        curve = TruncationCurve(**d)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
    return curve if curve.stamp == _stamp(ck) else None


def truncation_curve(run: str | Path | Run, checkpoint: str | Path | None = None, *, method: str = "scale",
                     values: Optional[Sequence[float]] = None, n: int = CURVE_N, extractor: str = "auto",
                     progress: Optional[Progress] = None, recompute: bool = False) -> TruncationCurve:
    """FID, precision and recall of samples truncated at each of `values` (default
    CURVE_VALUES[method]), measured with `ganlib.metrics.evaluation` on `n` samples against `n`
    real images of the run's data. Cached in the run folder per checkpoint, method, extractor
    and N (atomically written), so a curve is measured once; `load_truncation_curve` reads it."""
    run = as_run(run)
    check_method(method)
    name, note = resolve(run, extractor)
    ck = find_checkpoint(run, checkpoint)
    values = [float(v) for v in (values or CURVE_VALUES[method])]
    if not recompute:
        cached = load_truncation_curve(run, ck, method=method, n=n, extractor=name)
        if cached is not None and cached.values == values:
            return cached
    say = progress or (lambda f, t: None)
    h = get_generator(run, ck)
    cfg = run.config()
    say(0.0, f"Loading {cfg.dataset} and the {name} extractor")
    data = cached_run_data(cfg)
    m = max(2, min(int(n), len(data)))
    notes = [note] if note else []
    if m < n:
        notes.append(f"N capped at the {m:,} images of the run's data.")
    rows, label = [], {**TRUNCATION_METHODS, **W_METHOD}[method]
    for i, v in enumerate(values):
        say(0.05 + 0.95 * i / len(values), f"{label}: {v:g} ({i + 1}/{len(values)})")
        res = evaluate_generator(dataclasses.replace(h, G=Truncated(h.G, method, v)), data,
                                 extractor=extractor if name == NO_EXTRACTOR else name, n=m,
                                 inception_weights=cfg.inception_weights, dataset_key=data_fields(cfg),
                                 n_boot=5, kid_subsets=20)
        rows.append({"value": float(v), **{k: res.row[k] for k in ("fid", "fid_std", "kid", "precision", "recall")}})
    say(1.0, "Done")
    curve = TruncationCurve(method, rows, m, res.row["extractor"], ck.name, h.epoch, " ".join(notes), _stamp(ck))
    atomic_write_text(curve_path(run, ck, method=method, n=n, extractor=name), json.dumps(asdict(curve), indent=1))
    return curve
