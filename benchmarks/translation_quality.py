"""Image-to-image quality after a fixed CPU budget (issue 12's bars), through ganlib's engine:

- pix2pix on edges2digits: the digit classifier keeps the source digit's class on held-out
  inputs >= 90 % of the time, with L1 to the target at most half the copy baseline's;
- CycleGAN on digits2styled: content kept >= 80 %, and a domain classifier (a tiny CNN trained
  here on the training domains, thin vs thick strokes) calls >= 80 % of the outputs of held-out
  thin digits "thick".

    python benchmarks/translation_quality.py                      # both, 300 s each
    python benchmarks/translation_quality.py --models pix2pix --budget-s 60
    python benchmarks/translation_quality.py --write-perf docs/PERF.md --json tq.json

Each model first trains a 20 s probe to measure its speed on this machine now, then sets its
epochs so that the budget covers them (the learning rates decay over the last half of the
epochs, as in the papers), and trains with `time_budget` as the hard stop. Reported: the bars,
the images trained on (a count that does not depend on how busy the machine is), the wall
time, images per second and the load average while it ran.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.harness import command_line, pick_device, train_for, write_perf  # noqa: E402
from ganlib.data import load_dataset  # noqa: E402
from ganlib.engine.training import train  # noqa: E402
from ganlib.explore.sampling import get_generator  # noqa: E402
from ganlib.metrics.evaluation import evaluate_generator  # noqa: E402
from ganlib.metrics.translation import translate  # noqa: E402
from ganlib.store.presets import apply_preset  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402

SECTION = "## Image-to-image translation"
PROBE_S = 20.0
BARS = {"pix2pix": "content >= 90 % and L1 <= 0.5 x copy", "cyclegan": "content >= 80 % and style moved >= 80 %"}


def speed(run: Run, batch: int) -> float:
    """Training images per second from a run's stream of running means, between its second
    row and its last (the first includes the start: the epoch-0 grid, the first steps)."""
    rows = [r for r in run.stream() if r.get("step") and r.get("elapsed_s")]
    if len(rows) < 3:
        return rows[-1]["step"] * batch / rows[-1]["elapsed_s"] if rows else 0.0
    return (rows[-1]["step"] - rows[1]["step"]) * batch / (rows[-1]["elapsed_s"] - rows[1]["elapsed_s"])


def planned_run(model: str, budget: float, device: str, runs: Path, probe_s: float = PROBE_S, epochs: int = 0,
                **changes) -> tuple[Run, dict]:
    """With `epochs` the run trains exactly that many (no probe, no time limit): a measure that
    does not depend on how busy the machine is."""
    base = dict(device=device, eval_every=0, checkpoint_every=1000, sample_every=100, **changes)  # the fields' maxima
    cfg = apply_preset(model, **base)
    n = len(load_dataset(cfg.dataset, max_images=cfg.max_images))
    rate = math.nan
    if not epochs:
        probe = train(apply_preset(model, epochs=1000, time_budget=probe_s, **base), runs_dir=runs / "probe")
        rate = speed(probe.run, cfg.batch_size)
        epochs = max(1, int(budget * rate / n))
        base["time_budget"] = budget
    res, timing = train_for(apply_preset(model, epochs=epochs, **base), 0, runs)  # the budget, if any, is in base
    if not math.isfinite(rate):  # no probe: the run's own speed
        rate = res.rows[-1]["images_per_sec"]
    info = {"probe_images_per_s": rate, "epochs_planned": epochs, "epochs_done": res.epoch,
            "images": res.epoch * (n // cfg.batch_size) * cfg.batch_size, "train_s": timing["wall_s"],
            "state": res.state, "batch_size": cfg.batch_size}
    return res.run, info


class DomainNet(nn.Module):
    """Thin or thick strokes: two convs and a linear layer, enough for a style this plain."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(32 * 7 * 7, 2))

    def forward(self, x):
        return self.net(x)


def domain_classifier(seed: int = 0, epochs: int = 3) -> tuple[nn.Module, float]:
    """Trained on the two training domains of digits2styled (A: 0, B: 1); returns it and its
    accuracy on the held-out real images of both domains."""
    data = load_dataset("digits2styled")
    x = torch.cat([data.source, data.images])
    y = torch.cat([torch.zeros(len(data.source)), torch.ones(len(data.images))]).long()
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = DomainNet()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(64):
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    held = data.held_out
    with torch.no_grad():
        acc = ((net(held.source).argmax(1) == 0).float().mean() + (net(held.images).argmax(1) == 1).float().mean()) / 2
    return net, acc.item()


def measure(model: str, budget: float, device: str, runs: Path, probe_s: float = PROBE_S, epochs: int = 0,
            **changes) -> dict:
    run, info = planned_run(model, budget, device, runs, probe_s, epochs, **changes)
    handle = get_generator(run)
    data = load_dataset(handle.config["dataset"])
    row = evaluate_generator(handle, data, extractor="digits").row
    out = {"model": model, "run": run.name, **info, **{k: row[k] for k in row if isinstance(row[k], (int, float))}}
    if model == "pix2pix":
        out["pass"] = row["content_acc"] >= 0.9 and row["l1"] <= 0.5 * row["l1_copy"]
    else:
        net, acc = domain_classifier()
        with torch.no_grad():
            outputs = translate(handle.G, data.held_out.source)
            out["style_moved"] = (net(outputs.cpu()).argmax(1) == 1).float().mean().item()
            out["style_copy"] = (net(data.held_out.source).argmax(1) == 1).float().mean().item()
        out["domain_classifier_acc"] = acc
        out["pass"] = row["content_acc"] >= 0.8 and out["style_moved"] >= 0.8
    return out


def table(results: list[dict], device: str, cmd: str, load: tuple[float, float]) -> str:
    lines = [f"Measured by `{cmd}` on {device}; load average {load[0]:.1f} before and {load[1]:.1f} after "
             f"(2 cores shared with other helpers: wall times depend on it, images trained on do not).", "",
             "| model | bar | pass | content kept (copy) | L1 (copy) | SSIM (copy) | FID (copy) | style moved "
             "(copy) | cycle error | images trained | epochs | train s | images/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        style = f"{r['style_moved']:.1%} ({r['style_copy']:.1%})" if "style_moved" in r else "-"
        cyc = f"{r['cycle_l1']:.3f}" if r.get("cycle_l1") == r.get("cycle_l1") else "-"
        name = r["model"] + "".join(f", {k}={v}" for k, v in r.get("changes", {}).items())
        lines.append(f"| {name} | {BARS[r['model']]} | {'yes' if r['pass'] else 'no'} | "
                     f"{r['content_acc']:.1%} ({r['content_acc_copy']:.1%}) | {r['l1']:.3f} ({r['l1_copy']:.3f}) | "
                     f"{r['ssim']:.3f} ({r['ssim_copy']:.3f}) | {r['fid']:.2f} ({r['fid_copy']:.2f}) | {style} | "
                     f"{cyc} | {r['images']:,} | {r['epochs_done']}/{r['epochs_planned']} | {r['train_s']:.0f} | "
                     f"{r['probe_images_per_s']:.0f} |")
    if any("domain_classifier_acc" in r for r in results):
        acc = next(r["domain_classifier_acc"] for r in results if "domain_classifier_acc" in r)
        lines += ["", f"The domain classifier (benchmarks/translation_quality.py, `DomainNet`) tells held-out thin "
                      f"from thick digits {acc:.1%} of the time."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="pix2pix,cyclegan")
    p.add_argument("--budget-s", type=float, default=300.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--epochs", type=int, default=0,
                   help="train exactly this many epochs instead of a time budget (0: the budget decides)")
    p.add_argument("--probe-s", type=float, default=PROBE_S, help="seconds of the speed probe")
    p.add_argument("--max-images", type=int, default=0, help="train on the first N images (0 = all; for a quick try)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="a config change on top of the preset (repeatable), e.g. lambda_identity=0")
    p.add_argument("--json", type=Path)
    p.add_argument("--write-perf", type=Path)
    args = p.parse_args(argv)
    device, desc = pick_device(args.device, args.threads)
    load0 = os.getloadavg()[0]
    changes = dict(kv.split("=", 1) for kv in args.set)
    results = []
    with tempfile.TemporaryDirectory(prefix="tq-") as tmp:
        for model in args.models.split(","):
            results.append(measure(model, args.budget_s, str(device), Path(tmp) / model, args.probe_s, args.epochs,
                                   max_images=args.max_images, cpu_threads=args.threads, **changes))
            results[-1]["changes"] = changes
            print(json.dumps(results[-1]), flush=True)
    body = table(results, desc, command_line(__file__, argv), (load0, os.getloadavg()[0]))
    print(body)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_perf:
        write_perf(args.write_perf, SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
