"""Whether torch.compile's CUDA graphs really replay the engine's training step, and replay it
right: BatchNorm buffers, the optimiser's updates and the EMA of G.

    python benchmarks/cuda_graph_check.py --device cuda --json graphs.json
    python benchmarks/cuda_graph_check.py --device cpu --compile-backend aot_eager   # rehearsal

Two trainers of one config (dcgan with BatchNorm in G and D, EMA 0.9, hinge loss) built by
`ganlib.engine.training.prepare`: one eager, one with `compile=cuda_graphs` (on a CPU, where
CUDA graphs do not exist, `compile`: parts 1 and 3 are rehearsed, part 2 is not applicable).
They start from the same weights and take the same steps on the same batches with the same
RNG. In this engine only G's and D's forward (and, through AOT autograd, backward) passes are
compiled; the fused Adam step, the gradient norms and the EMA's lerp run eagerly between
graph replays, on the very parameter tensors the graphs read (static addresses).

What the script looks for, and how it decides:
1. No skips. Inductor bumps `torch._dynamo.utils.counters["inductor"]["cudagraph_skips"]` and
   logs the reason on its `cudagraphs` log ("skipping cudagraphs due to mutated inputs", CPU
   tensors, ...) whenever it runs a compiled graph without CUDA graphs. The counter must stay 0;
   the reasons and the "Recording function" lines of that log are captured.
2. Replays. torch.profiler over `--profile-steps` steady steps (after `--steps` steps) counts
   the CUDA runtime calls: `cudaGraphLaunch` at least once a step, no stream capture
   (`cudaStreamBeginCapture`: the graphs are not re-recorded every step) and fewer kernel
   launches a step than the eager trainer's.
3. Right. After the steps the two trainers agree: every step's losses within rel 2e-2
   (compiled kernels add in another order); G's and D's weights, the BatchNorm running means
   and variances and the EMA's weights each differ between the two by at most a tenth of how
   far the eager ones moved from the start (||graphs - eager|| / ||eager|| over the group). A
   replay that dropped the buffer writes leaves the buffers at their start; one that read a
   stale copy of the weights the optimiser updates in place trains other weights; an EMA that
   missed its updates stays behind.
Verdict: `replays` is true when 1, 2 and 3 hold (CUDA only); `right` when 3 holds.
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.cuda_checks import register_data  # noqa: E402
from benchmarks.harness import start as start_script  # noqa: E402

LOSS_REL = 2e-2  # the per-step losses of the two trainers, relative (compiled kernels add in another order)
OF_MOVEMENT = 0.1  # weights, buffers and EMA: graphs vs eager at most this share of how far eager's moved


class LogCatcher(logging.Handler):
    """The cudagraphs log's skip reasons and recordings, as they happen."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.skips: list[str] = []
        self.recordings = 0

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "skipping cudagraphs" in msg:
            self.skips.append(msg.splitlines()[0][:300])
        elif "Recording function" in msg:  # also "Re-recording function"
            self.recordings += 1


def rel_norm(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    """||a - b|| / ||b|| over all the tensors of a group at once: rounding noise in a few
    near-zero elements (which Adam turns into whole steps) stays small against the whole, and a
    zero-initialised bias does not make "how far it moved" 100 %."""
    x = torch.cat([t.detach().double().cpu().reshape(-1) for t in a])
    y = torch.cat([t.detach().double().cpu().reshape(-1) for t in b])
    return float((x - y).norm() / y.norm().clamp_min(1e-12))


def bn_buffers(m: torch.nn.Module) -> list[torch.Tensor]:
    return [b for n, b in m.named_buffers() if n.endswith(("running_mean", "running_var"))]


class Side:
    """One trainer and what it did, step by step."""

    def __init__(self, cfg, runs_dir: str):
        from ganlib.engine.training import prepare

        t0 = time.perf_counter()
        self.trainer = prepare(cfg, runs_dir=runs_dir)
        self.setup_s = time.perf_counter() - t0
        self.rule = self.trainer.rule
        self.losses: list[list[float]] = []

    def step(self, i: int, x: torch.Tensor, y, record: bool = True) -> None:
        torch.manual_seed(1000 + i)  # the same noise on both sides (and on the GPU's generator)
        self.rule.reset()
        self.rule.train_step(x, y, i, 0.0)
        if record:
            self.losses.append([v for v, _ in self.rule.read_sums().values()])


def profile_steps(side: Side, batches, start: int, device: torch.device) -> dict[str, Any]:
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for k, (x, y) in enumerate(batches):
            side.step(start + k, x, y, record=False)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    counts: dict[str, int] = {}
    for e in prof.key_averages():
        counts[e.key] = counts.get(e.key, 0) + e.count

    def total(*needles: str) -> int:
        return sum(c for k, c in counts.items() if any(n in k for n in needles))

    steps = len(batches)
    return {"steps": steps, "graph_launches": total("GraphLaunch"),
            "captures": total("BeginCapture", "GraphInstantiate"),
            "kernel_launches": total("cudaLaunchKernel", "cuLaunchKernel"),
            "kernel_launches_per_step": total("cudaLaunchKernel", "cuLaunchKernel") / steps,
            "graph_launches_per_step": total("GraphLaunch") / steps}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--model", default="dcgan", help="a model with BatchNorm (dcgan's G and, with d_norm batch, D)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=12, help="steps compared before profiling")
    p.add_argument("--profile-steps", type=int, default=5)
    p.add_argument("--compile-backend", default="inductor", choices=["inductor", "aot_eager", "eager"])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", metavar="OUT")
    a = p.parse_args(argv)
    if a.batch_size < 2 or a.steps < 1 or a.profile_steps < 1:
        p.error("need --batch-size >= 2, --steps >= 1, --profile-steps >= 1")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    command, device, desc = start_script(__file__, argv, args)
    from torch._dynamo.utils import counters

    import ganlib.engine.update_rules.common as common  # after parse_args: --help needs no engine
    from ganlib.store.config import TrainConfig

    common.COMPILE_BACKEND = args.compile_backend
    cuda = device.type == "cuda"
    mode = "cuda_graphs" if cuda else "compile"
    catcher = LogCatcher()
    try:  # the cudagraphs log says why a graph runs without CUDA graphs, and when one is recorded
        torch._logging.set_logs(cudagraphs=True)
    except TypeError:  # a torch without that log: the counter and the profiler still decide
        pass
    logging.getLogger("torch").addHandler(catcher)

    B, n_steps = args.batch_size, args.steps + args.profile_steps
    dataset, _ = register_data(["random"], B * 4)
    base = dict(model=args.model, dataset=dataset, device=str(device), batch_size=B, max_images=B * 4, eval_every=0,
                d_norm="batch", ema_decay=0.9, seed=0)  # an EMA that moves within a few steps
    print(f"command: {command}\ntorch {torch.__version__}, device {device} [{desc}]; {args.model} batch {B}, "
          f"eager vs compile={mode} (backend {args.compile_backend})", flush=True)
    with tempfile.TemporaryDirectory(prefix="ganlib-graph-check-") as runs_dir:
        eager = Side(TrainConfig(**base), runs_dir)
        graphs = Side(TrainConfig(**base, compile=mode), runs_dir)
        t = graphs.trainer
        gen = torch.Generator().manual_seed(1)
        batches = []
        for _ in range(n_steps):
            idx = torch.randint(0, len(t.data), (B,), generator=gen).to(device)
            batches.append((idx, t.data.labels[idx] if t.conditional else None))
        start = {"bn": [b.clone() for b in bn_buffers(t.G) + bn_buffers(t.D)],
                 "g": [p.detach().clone() for p in t.G.parameters()],
                 "weights": [p.detach().clone() for p in (*t.G.parameters(), *t.D.parameters())]}
        skips_before = counters["inductor"]["cudagraph_skips"]
        for i in range(args.steps):
            for side in (eager, graphs):
                idx, y = batches[i]
                side.step(i, side.trainer.data.images[idx], y)
        rec_before_profile = catcher.recordings
        prof = {}
        for name, side in (("eager", eager), ("graphs", graphs)):
            sb = [(side.trainer.data.images[idx], y) for idx, y in batches[args.steps:]]
            prof[name] = profile_steps(side, sb, args.steps, device)
        e, g = eager.trainer, graphs.trainer
        groups = {  # name: (the graphs side's tensors, the eager side's, the eager side's at the start)
            "weights": ([*g.G.parameters(), *g.D.parameters()], [*e.G.parameters(), *e.D.parameters()],
                        start["weights"]),
            "batchnorm_buffers": (bn_buffers(g.G) + bn_buffers(g.D), bn_buffers(e.G) + bn_buffers(e.D), start["bn"]),
            "ema": (list(g.rule.ema.model.parameters()), list(e.rule.ema.model.parameters()), start["g"]),
        }
        compared = {k: {"diff": rel_norm(gs, es), "moved": rel_norm(s0, es)} for k, (gs, es, s0) in groups.items()}
        compared["losses"] = {"diff": rel_norm([torch.tensor(v) for v in graphs.losses],
                                               [torch.tensor(v) for v in eager.losses]), "moved": None}
        for c in compared.values():
            c["agree"] = (c["diff"] <= LOSS_REL) if c["moved"] is None else (
                0 < c["moved"] and c["diff"] <= OF_MOVEMENT * c["moved"])
        notes = list(g.notes)
    skips = counters["inductor"]["cudagraph_skips"] - skips_before + len([n for n in notes if "failed" in n])
    right = all(c["agree"] for c in compared.values()) and bool(start["bn"])
    pg, pe = prof["graphs"], prof["eager"]
    replaying = (cuda and pg["graph_launches_per_step"] >= 1 and pg["captures"] == 0
                 and pg["kernel_launches_per_step"] < pe["kernel_launches_per_step"])
    verdict = {
        "no_skips": skips == 0 and not catcher.skips,
        "replays_in_steady_state": replaying if cuda else None,
        "right": right,
        "replays": (skips == 0 and not catcher.skips and replaying and right) if cuda else None,
    }
    result = {
        "command": command, "torch": torch.__version__, "python": platform.python_version(), "device": str(device),
        "device_name": desc, "model": args.model, "batch_size": B, "mode": mode,
        "compile_backend": args.compile_backend,
        "steps_compared": args.steps, "tolerance": {"losses_rel": LOSS_REL, "of_movement": OF_MOVEMENT},
        "setup_s": graphs.setup_s,
        "cudagraph_skips": skips, "skip_reasons": catcher.skips, "recordings_logged": catcher.recordings,
        "recordings_during_profile": catcher.recordings - rec_before_profile, "notes": notes,
        "profile": prof, "compared": compared, "verdict": verdict,
    }
    for k, c in compared.items():
        moved = "" if c["moved"] is None else f"; eager moved {c['moved']:.3g} from the start"
        print(f"{k:<18} graphs vs eager: relative difference {c['diff']:.3g}{moved}: "
              f"{'agree' if c['agree'] else 'DIFFER'}")
    print(f"profile of {pg['steps']} steps: graph launches {pg['graph_launches']}, captures {pg['captures']}, "
          f"kernel launches a step {pg['kernel_launches_per_step']:.0f} (eager {pe['kernel_launches_per_step']:.0f})")
    print(f"cudagraph skips {skips} {catcher.skips[:3]}; recordings logged {catcher.recordings} "
          f"({result['recordings_during_profile']} while profiling); notes {notes}")
    print(f"verdict: {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str) + "\n")
    return 0 if (verdict["replays"] if cuda else right) else 1


if __name__ == "__main__":
    sys.exit(main())
