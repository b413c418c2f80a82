"""What one image costs to draw: the GAN default, the VAE and the diffusion preset (at its own
sampler settings and a few others), in network evaluations per image and seconds per image.

    python benchmarks/sampling_cost.py                          # CPU, torch's threads
    python benchmarks/sampling_cost.py --threads 1 --repeats 7  # steadier on a shared machine
    python benchmarks/sampling_cost.py --device cuda --json cost.json --write-perf docs/PERF.md

Each arm builds its generator from a config (`TrainConfig()` for the GAN default, seed 000's MLP
VAE with latent_dim 20, the `diffusion` preset), puts it in a `GeneratorHandle` in eval mode and
times `handle.decode` on fixed latents: at batch 1 (the latency a user waits for one image) and
at batch `--batch` (what a grid, an evaluation or a judge pays per image). The cost of a forward
pass does not depend on the weights, so untrained networks are timed. Network evaluations per
image are counted, not assumed: a forward hook on the network (a diffusion model's velocity
U-Net, otherwise G) adds up the rows it processes, divided by the images drawn. Each timing is
the median of `--repeats` after one warm-up; on CUDA the clock reads after a synchronize.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.harness import command_line, pick_device, write_perf  # noqa: E402
from ganlib.models import MODELS, build_models, latent_size  # noqa: E402
from ganlib.models.handle import GeneratorHandle  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from ganlib.store.presets import apply_preset  # noqa: E402

SECTION = "## Sampling cost per image"


def arms() -> dict[str, TrainConfig]:
    diffusion = apply_preset("diffusion")
    return {
        "GAN default (cdcgan_compact)": TrainConfig(),
        "VAE (seed 000's MLP, latent 20)": TrainConfig(model="vae", latent_dim=20),
        f"diffusion preset ({diffusion.variant}, {diffusion.sample_steps} steps, guidance {diffusion.guidance:g})":
            diffusion,
        f"diffusion, {diffusion.sample_steps} steps, guidance 1": diffusion.replace(guidance=1.0),
        "diffusion, 20 steps, guidance 2": diffusion.replace(sample_steps=20, guidance=2.0),
        f"diffusion small (32/64 channels), {diffusion.sample_steps} steps, guidance {diffusion.guidance:g}":
            diffusion.replace(variant="small"),
    }


def network(G: torch.nn.Module, kind: str) -> torch.nn.Module:
    """The module one network evaluation runs: a diffusion model's velocity net, else G."""
    return G.net if kind == "diffusion" else G


def measure(cfg: TrainConfig, device: torch.device, batch: int, repeats: int) -> dict:
    G, _ = build_models(cfg, 10)
    spec = MODELS.get(cfg.model)
    h = GeneratorHandle(G.to(device).eval(), latent_size(cfg), 10, spec.conditional, kind=spec.kind)
    rows = {"n": 0}
    hook = network(G, spec.kind).register_forward_hook(lambda m, i, o: rows.__setitem__("n", rows["n"] + o.shape[0]))
    out = {"model": cfg.model, "params": sum(p.numel() for p in G.parameters())}
    try:
        for b in (1, batch):
            z, y = h.latents(b, 0), h.labels(None, b)
            h.decode(z, y)  # warm-up (and the evaluation count)
            rows["n"] = 0
            h.decode(z, y)
            out["evals_per_image"] = rows["n"] / b
            times = []
            for _ in range(repeats):
                sync(device)
                t0 = time.perf_counter()
                h.decode(z, y)
                sync(device)
                times.append(time.perf_counter() - t0)
            out[f"ms_per_image_b{b}"] = 1000 * statistics.median(times) / b
    finally:
        hook.remove()
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def table(results: dict[str, dict], batch: int) -> str:
    lines = [f"| generator | parameters | network evaluations per image | ms per image, batch 1 "
             f"| ms per image, batch {batch} | images/s, batch {batch} |", "| --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['params']:,} | {r['evals_per_image']:g} | {r['ms_per_image_b1']:.2f} | "
                     f"{r[f'ms_per_image_b{batch}']:.3f} | {1000 / r[f'ms_per_image_b{batch}']:,.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--batch", type=int, default=256, help="the large batch (default 256)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json")
    p.add_argument("--write-perf")
    args = p.parse_args(argv)
    device, desc = pick_device(args.device, args.threads)
    command = command_line(__file__, argv)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"command: {command}\ntorch {torch.__version__}, {desc}\nuptime: {load}", flush=True)
    results = {}
    with torch.no_grad():
        for name, cfg in arms().items():
            results[name] = measure(cfg, device, args.batch, args.repeats)
            print(f"  {name}: {results[name]}", flush=True)
    load_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    body = (f"Command: `{command}`  \n{time.strftime('%Y-%m-%d %H:%M %Z')}; torch {torch.__version__}; {desc}; "
            f"load at start `{load}`, at the end `{load_end}`.\n\n{table(results, args.batch)}\n\n"
            "Untrained networks (a forward pass costs the same whatever the weights); network evaluations "
            "counted by a forward hook. The times depend on the machine's load: re-measure on a quiet "
            "machine before quoting them.\n")
    print("\n" + table(results, args.batch))
    if args.json:
        Path(args.json).write_text(json.dumps({"command": command, "uptime": [load, load_end],
                                               "results": results}, indent=1))
    if args.write_perf:
        write_perf(Path(args.write_perf), SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
