"""GAN, VAE and diffusion side by side (issue 25): the three families trained on the same data,
seeds and time budget, interleaved (seed by seed, the families in turn, so a busy spell of the
machine hits all of them), then measured the same way: FID, precision, recall and class coverage
against wall-clock time, the cost of drawing one image (milliseconds and network evaluations),
a diversity figure, and a plain reading that states only what the measurements show.

    from ganlib.explore import families as fam
    result = fam.run_comparison("runs", budget_s=60, seeds=[0, 1, 2])   # trains 9 runs
    result = fam.compare_runs([gan_run, vae_run, diffusion_run])        # runs already trained
    fam.summarise(result["runs"]); fam.reading(result)                 # medians, ranges, words

A family is read from a run's model kind (`gan`, `vae`, `diffusion`); the GAN arm is the default
recipe (`TrainConfig()`), the VAE the form's defaults with model `vae`, diffusion its preset.
Plots and files: `ganlib.explore.families_report`. No streamlit here: plain data.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch

from ganlib.explore.checkpoint_evaluation import evaluate_checkpoint
from ganlib.models import MODELS
from ganlib.models.diffusion import evaluations_per_image
from ganlib.models.handle import GeneratorHandle
from ganlib.store.checkpoints import find_checkpoint, load_handle
from ganlib.store.config import TrainConfig
from ganlib.store.presets import apply_preset
from ganlib.store.run_folder import Run

FAMILIES = ("gan", "vae", "diffusion")
LABELS = {"gan": "GAN (default)", "vae": "VAE", "diffusion": "diffusion (flow matching)"}
QUALITY = ("fid", "precision", "recall", "classes_covered")  # the curves against wall-clock time
# The summary's columns: (key, words, which way is better: "lower", "higher" or "" for neither)
COLUMNS = (("fid", "final FID", "lower"), ("precision", "precision", "higher"), ("recall", "recall", "higher"),
           ("classes_covered", "classes covered", "higher"), ("wall_s", "training wall-clock s", ""),
           ("images", "training images", ""), ("ms_per_image", "ms to draw one image", "lower"),
           ("nfe", "network evaluations per image", "lower"), ("diversity", "diversity (pixel distance)", ""))
Progress = Callable[[str], None]


def family_of(config: dict[str, Any]) -> Optional[str]:
    """'gan', 'vae' or 'diffusion' from a run config's model; None for an image-to-image model."""
    try:
        kind = MODELS.get(config.get("model", "")).kind
    except KeyError:
        return None
    return kind if kind in ("vae", "diffusion") else ("gan" if kind in ("gan", "stylegan") else None)


def family_config(family: str, *, dataset: str = "mnist5k", seed: int = 0, budget_s: float = 60.0,
                  overrides: Optional[dict[str, Any]] = None) -> TrainConfig:
    """The config one arm trains: its family's recipe on the shared data, seed and time budget
    (epochs lifted so that the budget decides). `overrides` change any field of every arm."""
    base = {"gan": TrainConfig(), "vae": TrainConfig().replace(model="vae")}.get(family)
    if base is None:
        if family != "diffusion":
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
        base = apply_preset("diffusion")
    return TrainConfig.from_dict({**base.to_dict(), "dataset": dataset, "seed": int(seed), "epochs": 5_000,
                                  "time_budget": float(budget_s), **(overrides or {})})


@torch.no_grad()
def sampling_cost(h: GeneratorHandle, n: int = 100, repeats: int = 2) -> dict[str, float]:
    """Milliseconds to draw one image in a batch of `n` (the best of `repeats` timed draws after
    a warm-up) and the network evaluations each image costs (one for a GAN or a VAE's decoder;
    a diffusion run's Euler steps, doubled by guidance)."""
    z, y = h.latents(n, 0), h.labels(None, n)
    h.decode(z[:2], None if y is None else y[:2])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        h.decode(z, y)
        best = min(best, time.perf_counter() - t0)
    cfg = {**h.config, **{("sample_steps" if k == "steps" else k): v for k, v in h.sampling.items()}}
    nfe = evaluations_per_image(int(cfg.get("sample_steps", 10)), float(cfg.get("guidance", 2.0))) \
        if h.kind == "diffusion" else 1
    return {"ms_per_image": 1000 * best / n, "nfe": nfe}


@torch.no_grad()
def diversity(h: GeneratorHandle, n: int = 200, seed: int = 0) -> float:
    """Mean pairwise RMS pixel distance (images on the 0-1 scale) between `n` samples drawn from
    fixed seeds, labels cycling through the classes: 0 when every sample is the same image."""
    x = (h.decode(h.latents(n, seed), h.labels(None, n)).float().cpu().reshape(n, -1) + 1) / 2
    d = torch.cdist(x, x) / x.shape[1] ** 0.5
    return float(d.sum() / (n * (n - 1)))


def curve(run: Run) -> list[dict[str, float]]:
    """The run's evaluations against wall-clock training time: one point per evaluated epoch."""
    return [{"elapsed_s": float(r["elapsed_s"]), "epoch": int(r["epoch"]),
             **{k: float(r[k]) for k in QUALITY if r.get(k) is not None}}
            for r in run.metrics() if r.get("fid") is not None and r.get("elapsed_s") is not None]


def measure_run(run: Run, *, n_eval: Optional[int] = None, n_sample: int = 100, n_diversity: int = 200,
                extractor: str = "auto", progress: Optional[Progress] = None) -> dict[str, Any]:
    """One run's row of the comparison: its family and seed, its training time and images, its
    evaluation curve, and its latest checkpoint measured now (the metrics at N = `n_eval`, the
    run's own evaluation size by default; the sampling cost; the diversity)."""
    say = progress or (lambda text: None)
    cfg = run.config()
    family = family_of(cfg.to_dict())
    if family is None:
        raise ValueError(f"{run.name} is an image-to-image run ({cfg.model}): it has no family to compare")
    rows = run.metrics()
    ckpt = find_checkpoint(run)
    say(f"{run.name}: evaluating {ckpt.name}")
    ev = evaluate_checkpoint(run, ckpt, extractor=extractor, n=n_eval or cfg.eval_samples)
    h = load_handle(ckpt, "cpu")
    say(f"{run.name}: timing the sampler")
    out = {"run": run.name, "family": family, "seed": cfg.seed, "model": cfg.model, "epochs": len(rows),
           "wall_s": float(rows[-1]["elapsed_s"]) if rows else 0.0,
           "images": int(sum(r.get("images_per_sec", 0) * r.get("epoch_time_s", 0) for r in rows)),
           "curve": curve(run), "extractor": ev.row.get("extractor"), "eval_n": ev.row.get("eval_n"),
           **{k: ev.row.get(k) for k in QUALITY}, **sampling_cost(h, n_sample),
           "diversity": diversity(h, n_diversity)}
    if out["curve"] == [] or out["curve"][-1]["epoch"] != out["epochs"]:  # the latest state, at its time
        out["curve"].append({"elapsed_s": out["wall_s"], "epoch": out["epochs"],
                             **{k: out[k] for k in QUALITY if out[k] is not None}})
    return out


def compare_runs(runs: Sequence[Run], **measure) -> dict[str, Any]:
    """The comparison of runs already trained (any number of each family)."""
    measured = [measure_run(r, **measure) for r in runs]
    return {"runs": measured, "summary": summarise(measured)}


def run_comparison(runs_dir: str | Path, *, dataset: str = "mnist5k", budget_s: float = 60.0,
                   seeds: Sequence[int] = (0, 1, 2), families: Sequence[str] = FAMILIES,
                   overrides: Optional[dict[str, Any]] = None, n_eval: Optional[int] = None,
                   progress: Optional[Progress] = None, **measure) -> dict[str, Any]:
    """Train every family for every seed (interleaved) under the same budget, then measure each
    run (`measure_run`). Returns {"dataset", "budget_s", "seeds", "runs", "summary", "failed"}."""
    from ganlib.engine.training import train  # the engine trains; explore sits above it

    say = progress or (lambda text: None)
    configs = [family_config(f, dataset=dataset, seed=s, budget_s=budget_s, overrides=overrides)
               for s in seeds for f in families]  # every config checked before the first run starts
    trained, failed = [], []
    for cfg in configs:
        say(f"training {family_of(cfg.to_dict())}, seed {cfg.seed}, for {budget_s:g} s")
        res = train(cfg, runs_dir=runs_dir)
        (trained if res.state == "completed" else failed).append(res.run)
        if res.state != "completed":
            say(f"{res.run.name} ended {res.state}: {res.error or ''}".strip())
    measured = [measure_run(r, n_eval=n_eval, progress=say, **measure) for r in trained]
    return {"dataset": dataset, "budget_s": budget_s, "seeds": list(seeds), "runs": measured,
            "summary": summarise(measured), "failed": [r.name for r in failed]}


def spread(values: Sequence[float]) -> dict[str, Any]:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {"n": len(vals), "median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{family: {column: {"n", "median", "min", "max"}}} over the family's runs (its seeds)."""
    fams = [f for f in FAMILIES if any(r["family"] == f for r in runs)]
    return {f: {key: spread([r.get(key) for r in runs if r["family"] == f]) for key, _, _ in COLUMNS}
            for f in fams}


def fmt(v: Optional[float], key: str = "") -> str:
    if v is None:
        return "—"
    if key in ("images", "nfe", "classes_covered"):
        return f"{v:,.0f}"
    return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"


def described(s: dict[str, Any], key: str) -> str:
    """'12.3 (10.1 to 14.0 over 3 seeds)', or '12.3 (one seed)'."""
    if s["n"] <= 1:
        return f"{fmt(s['median'], key)} (one seed)"
    return f"{fmt(s['median'], key)} (median; {fmt(s['min'], key)} to {fmt(s['max'], key)} over {s['n']} seeds)"


def reading(result: dict[str, Any]) -> list[str]:
    """Plain sentences that state what the measurements show and no more: for each measure with
    a better direction, the best family by median and whether the seed ranges separate it from
    each other family; then what one image costs. No claim where there is no spread to judge."""
    summary = result["summary"]
    fams = list(summary)
    if len(fams) < 2:
        return ["Pick runs of at least two families to compare them."]
    lines = []
    budget = result.get("budget_s")
    if budget:
        data = result.get("dataset", "the same data")
        seeds = ", ".join(str(s) for s in result.get("seeds", []))
        lines.append(f"Every run trained for the same budget of {budget:g} s on {data}, seeds {seeds}, "
                     "the families in turn for each seed.")
    for key, words, better in COLUMNS:
        if not better or key in ("ms_per_image", "nfe"):
            continue
        have = [f for f in fams if summary[f][key]["n"]]
        if len(have) < 2:
            continue
        if len({summary[f][key]["median"] for f in have}) == 1:
            lines.append(f"{words[0].upper() + words[1:]}: the same median for every family, "
                         f"{fmt(summary[have[0]][key]['median'], key)}.")
            continue
        pick = min if better == "lower" else max
        best = pick(have, key=lambda f: summary[f][key]["median"])
        parts = []
        for other in (f for f in have if f != best):
            a, b = summary[best][key], summary[other][key]
            if a["n"] < 2 or b["n"] < 2:
                parts.append(f"{LABELS[other]} {described(b, key)}: one seed, so no spread to judge the gap by")
            elif (a["max"] < b["min"]) if better == "lower" else (a["min"] > b["max"]):
                parts.append(f"{LABELS[other]} {described(b, key)}: the seed ranges do not overlap")
            else:
                parts.append(f"{LABELS[other]} {described(b, key)}: the seed ranges overlap, so these seeds "
                             "do not separate them")
        lines.append(f"{words[0].upper() + words[1:]} ({better} is better): best median {LABELS[best]}, "
                     f"{described(summary[best][key], key)}; " + "; ".join(parts) + ".")
    cost = [f for f in fams if summary[f]["ms_per_image"]["n"]]
    if cost:
        cheapest = min(cost, key=lambda f: summary[f]["ms_per_image"]["median"])
        base = summary[cheapest]["ms_per_image"]["median"]
        lines.append("Drawing one image: " + "; ".join(
            f"{LABELS[f]} {fmt(summary[f]['ms_per_image']['median'])} ms with "
            f"{fmt(summary[f]['nfe']['median'], 'nfe')} network evaluation(s)"
            + ("" if f == cheapest or not base else f", {summary[f]['ms_per_image']['median'] / base:,.0f}× "
               f"{LABELS[cheapest]}'s") for f in cost) + " (milliseconds depend on the machine and its load; "
            "the evaluation counts do not).")
    return lines
