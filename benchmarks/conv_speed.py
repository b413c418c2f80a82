"""Time seed 001's conv GAN loop, as the seed wrote it, against ganlib's engine with the same
networks (`dcgan`, variant `seed001`), on the same device, the same data and the same batch size.

    python benchmarks/conv_speed.py                               # 50,000 images, 3 repeats, auto device
    python benchmarks/conv_speed.py --images 3200 --repeats 1     # quick check that it runs
    python benchmarks/conv_speed.py --device cuda --json out.json # also write the numbers as JSON
    python benchmarks/conv_speed.py --precision bf16 --channels-last --compile cuda_graphs  # one engine config
    python benchmarks/conv_speed.py --device cuda --variants all  # the seed against all 12 engine configs

Engine configs (`--variants`, comma-separated; `all` for every one): `+`-joined tokens from
fp32 | bf16 (precision), cl (channels_last) and compile | cuda_graphs (torch.compile; eager if
absent), e.g. `fp32,bf16+cl,bf16+cl+cuda_graphs`. Every config is built (and compiled) first,
then each repeat times one seed epoch and one epoch of every config in turn. The table reports
each config's setup time (data, models and, with compile, the compiling) apart from its epochs.
`--compile-backend aot_eager` checks the plumbing where inductor cannot run or takes too long.

Issue: seed 001's loop runs 2,325 images/s on an H100 at batch 32; the target is at least 5x
that at the same batch size.

Data: CIFAR-10's shape (32x32x3), `--images` of them (50,000 by default, CIFAR-10's train
split). torchvision's CIFAR-10 needs a download, so the images are random uint8 pixels: this
times speed, not quality. Both sides get the very same pixels: the seed side as float32 in
[-1, 1] (x / 127.5 - 1, what ToTensor + Normalize((0.5,)*3, (0.5,)*3) gives), the engine side as
the uint8 tensor its dataset registry expects (it scales them the same way).

Seed side (seed 001, steps 2-8): `DataLoader(TensorDataset(images, labels), batch_size=32,
shuffle=True)` with the default num_workers=0; the seed's Generator (BatchNorm momentum 0.78,
as written) and Discriminator (momentum 0.82/0.82/0.8, as written) with nn.Sigmoid +
nn.BCELoss; two Adam(lr=2e-4, betas=(0.5, 0.999)); valid/fake targets made every step;
d_loss = (real_loss + fake_loss) / 2; the G step regenerates `gen_images = generator(z)`;
the `.item()` calls of the "Progress Monitoring" block every 100 steps (the message is kept,
not printed). Left out: the every-10-epochs image grid. A TensorDataset of ready tensors is
faster than torchvision's CIFAR-10 (PIL image -> ToTensor -> Normalize per item), so the seed's
real loop is, if anything, slower than timed here.

Engine side: `benchmarks.harness.EngineLoop` (`prepare`, then `Trainer.run_epochs`) on a benchmark-only dataset
registered here (ganlib itself is not changed), `TrainConfig(model="dcgan", variant="seed001",
channels=3, image_size=32, batch_size=32)`, loss nonsaturating (the seed's BCE, on logits),
same lr and betas. With n_critic 1 the engine's G step reuses the D step's fakes (one generator
pass fewer than the seed).

Each side is warmed up (`--warmup-steps`), then the two sides run one epoch each in turn,
`--repeats` times; medians are reported. On CUDA the clocks are read after
torch.cuda.synchronize(). The engine drops the last partial batch, the seed's DataLoader keeps
it: compare images/s. Timings are noisy on a machine shared with other work.
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

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import EngineLoop, start, timed  # noqa: E402
from benchmarks.seed_loops import Seed001Loop as SeedLoop  # noqa: E402

BENCH_DATASET = "bench_cifar_shaped"
LATENT_DIM = 100
BATCH_SIZE = 32
LR = 0.0002
BETA1, BETA2 = 0.5, 0.999
SEED_H100_IMAGES_PER_S = 2325  # the issue's measurement of seed 001's loop
TARGET_RATIO = 5.0


# ---- data --------------------------------------------------------------------------------
def make_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random CIFAR-shaped uint8 images (N, 3, 32, 32) and labels 0-9."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (n,), generator=g))


_BENCH_DATA: dict = {}  # the registered loader returns what main() put here last


def register_engine_dataset(images: torch.Tensor, labels: torch.Tensor) -> None:
    """A benchmark-only entry in ganlib's dataset registry holding these images (registered
    once per process; a second main() in the same process replaces the images)."""
    from ganlib.data import DATASETS, RawData

    _BENCH_DATA["raw"] = RawData(images, labels, [str(i) for i in range(10)],
                                 note="benchmark: random CIFAR-shaped images")
    if BENCH_DATASET not in DATASETS:
        DATASETS.add(BENCH_DATASET, lambda data_path="", read=None, progress=None: _BENCH_DATA["raw"])


# ---- ganlib's engine ---------------------------------------------------------------------
SPEED_TOKENS = {"fp32": ("precision", "fp32"), "bf16": ("precision", "bf16"), "cl": ("channels_last", True),
                "compile": ("compile", "compile"), "cuda_graphs": ("compile", "cuda_graphs")}
ALL_VARIANTS = [f"{p}{'+cl' if cl else ''}{'+' + c if c else ''}"
                for c in ("", "compile", "cuda_graphs") for p in ("fp32", "bf16") for cl in (False, True)]


def speed_options(name: str) -> dict:
    """`bf16+cl+cuda_graphs` -> TrainConfig's precision, channels_last and compile fields."""
    opts = {"precision": "fp32", "channels_last": False, "compile": "off"}
    for token in name.split("+"):
        if token not in SPEED_TOKENS:
            raise ValueError(f"unknown token {token!r} in {name!r}; use {', '.join(SPEED_TOKENS)} joined by +")
        field, value = SPEED_TOKENS[token]
        opts[field] = value
    return opts


def variant_name(opts: dict) -> str:
    return opts["precision"] + ("+cl" if opts["channels_last"] else "") + \
        ("" if opts["compile"] == "off" else "+" + opts["compile"])


def engine_config(device_name: str, seed: int, batch_size: int, variant: str = "fp32"):
    from ganlib.store.config import TrainConfig  # after the benchmark dataset is registered

    return TrainConfig(dataset=BENCH_DATASET, model="dcgan", variant="seed001", channels=3, image_size=32,
                       loss="nonsaturating", epochs=1000, batch_size=batch_size, latent_dim=LATENT_DIM,
                       lr_g=LR, lr_d=LR, beta1=BETA1, beta2=BETA2, seed=seed, device=device_name,
                       eval_every=0, **speed_options(variant))


# ---- driver ------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--images", type=int, default=50_000, help="images per epoch (CIFAR-10's train split: 50,000)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="both sides (the seed's is 32)")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per side; medians are reported")
    p.add_argument("--warmup-steps", type=int, default=20, help="untimed steps per side before timing")
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads(N) for both sides; 0 (default) keeps torch's default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON (rewritten after every repeat)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="the engine's precision")
    p.add_argument("--channels-last", action="store_true", help="the engine's models and data channels-last")
    p.add_argument("--compile", choices=["off", "compile", "cuda_graphs"], default="off",
                   help="torch.compile the engine's G and D (cuda_graphs: mode reduce-overhead)")
    p.add_argument("--variants", metavar="LIST",
                   help="several engine configs, e.g. fp32,bf16+cl,bf16+cl+cuda_graphs, or all "
                        "(instead of --precision/--channels-last/--compile)")
    p.add_argument("--compile-backend", default="inductor", choices=["inductor", "aot_eager", "eager"],
                   help="torch.compile backend (aot_eager: no code generation, for a quick check on a CPU)")
    a = p.parse_args(argv)
    if a.batch_size < 2 or a.images < a.batch_size or a.repeats < 1 or a.warmup_steps < 0 or a.threads < 0:
        p.error("need --batch-size >= 2, --images >= batch size, --repeats >= 1, --warmup-steps >= 0, --threads >= 0")
    single = {"precision": a.precision, "channels_last": a.channels_last, "compile": a.compile}
    if a.variants and variant_name(single) != "fp32":
        p.error("give either --variants or --precision/--channels-last/--compile")
    names = ALL_VARIANTS if a.variants == "all" else (a.variants.split(",") if a.variants else [variant_name(single)])
    try:
        a.variants = list(dict.fromkeys(variant_name(speed_options(n.strip())) for n in names))
    except ValueError as e:
        p.error(str(e))
    return a


def build_engines(args, device_name: str, device: torch.device, runs_dir: str, results: dict) -> list[EngineLoop]:
    """One engine per config, built, compiled and warmed up. A config that fails is reported in
    `results` and left out; the others still run."""
    engines = []
    for name in args.variants:
        try:
            engine = EngineLoop(engine_config(device_name, args.seed, args.batch_size, name), runs_dir, name)
            warm_s = timed(lambda e=engine: e.warmup(args.warmup_steps), device)[0] if args.warmup_steps else 0.0
        except Exception as e:  # noqa: BLE001 - e.g. out of memory, or bf16 on a GPU without it
            results[name] = {"error": f"{type(e).__name__}: {e}"}
            print(f"engine {name}: FAILED to set up: {results[name]['error']}")
            continue
        engines.append(engine)
        notes = engine.trainer.notes
        results[name] = {"setup_s": engine.setup_s, "notes": notes, "images_per_epoch": engine.images_per_epoch,
                         "steps": engine.steps_per_epoch, "epoch_s": [], "engine_reported_epoch_s": []}
        print(f"engine {name}: set up in {engine.setup_s:.2f} s"
              + (f", warm-up {args.warmup_steps} steps in {warm_s:.2f} s" if args.warmup_steps else "")
              + "".join(f"\n  note: {n}" for n in notes))
    return engines


def main(argv=None) -> int:
    args = parse_args(argv)
    command, device, dev_desc = start(__file__, argv, args)
    B = args.batch_size
    import ganlib.engine.update_rules.common

    ganlib.engine.update_rules.common.COMPILE_BACKEND = args.compile_backend

    images, labels = make_images(args.images, args.seed)
    register_engine_dataset(images, labels)

    print(f"command: {command}")
    print(f"torch {torch.__version__}, python {platform.python_version()}, device {device} [{dev_desc}]")
    print(f"data: {len(images):,} random uint8 images 3x32x32 (CIFAR-10's shape); batch {B}; "
          f"seed DataLoader(TensorDataset) num_workers=0 (the default, as the seed ran)")
    print(f"engine configs: {', '.join(args.variants)} (torch.compile backend {args.compile_backend})")
    meta = {
        "command": command, "argv": argv, "torch": torch.__version__, "python": platform.python_version(),
        "device": str(device), "device_name": dev_desc, "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "data": "random uint8 3x32x32", "images": len(images),
        "batch_size": B, "warmup_steps": args.warmup_steps, "repeats": args.repeats, "seed_num_workers": 0,
        "compile_backend": args.compile_backend,
    }

    results: dict[str, dict] = {}  # config name -> what the JSON reports about it
    with tempfile.TemporaryDirectory(prefix="ganlib-bench-") as runs_dir:
        seed_loop = SeedLoop(images, labels, device, args.seed, B)
        engines = build_engines(args, device.type, device, runs_dir, results)
        if not engines:
            sys.exit("no engine config could be set up")
        if args.warmup_steps:
            t_w, _ = timed(lambda: seed_loop.run(max_steps=args.warmup_steps), device)
            print(f"warm-up seed:   {args.warmup_steps} steps in {t_w:.2f} s")

        seed_times: list[float] = []
        for r in range(args.repeats):  # alternate the sides so drifting load hits all alike
            dt, msg = timed(seed_loop.run, device)
            seed_loop.epoch += 1
            seed_times.append(dt)
            print(f"[{r + 1}/{args.repeats}] seed {'':<22}{dt:8.2f} s  {seed_loop.images_per_epoch / dt:9.0f} img/s  "
                  f"({msg})")
            for engine in list(engines):
                res = results[engine.name]
                try:
                    dt, msg = timed(engine.run, device)
                except Exception as e:  # noqa: BLE001 - keep the configs that work
                    res["error"] = f"{type(e).__name__}: {e}"
                    engines.remove(engine)
                    print(f"[{r + 1}/{args.repeats}] engine {engine.name}: FAILED: {res['error']}")
                    continue
                res["epoch_s"].append(dt)
                res["engine_reported_epoch_s"].append(engine.last_row["epoch_time_s"])
                print(f"[{r + 1}/{args.repeats}] engine {engine.name:<20}{dt:8.2f} s  "
                      f"{engine.images_per_epoch / dt:9.0f} img/s  ({msg})")
            summary = {**meta, **summarise(seed_loop, seed_times, results)}
            if args.json:
                Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")

    print_table(summary, args.repeats, B)
    print("setup s: data, models and (with compile) compiling, before any timed epoch")
    print("timings are noisy on a machine shared with other work; repeat before trusting a ratio")
    print(f"device {device}; command: {command}")
    if args.json:
        print(f"wrote {args.json}")
    return 0


def print_table(summary: dict, repeats: int, B: int) -> None:
    s_ips = summary["seed"]["median_images_per_s"]
    print()
    print(f"{'median of ' + str(repeats):<28}{'setup s':>9}{'epoch s':>10}{'images/s':>11}{'vs seed':>9}{'steps':>7}")
    print(f"{'seed 001':<28}{'':>9}{summary['seed']['median_epoch_s']:>10.2f}{s_ips:>11.0f}{'1.00x':>9}"
          f"{summary['seed']['steps']:>7}")
    for name, res in summary["variants"].items():
        if "median_images_per_s" in res:
            print(f"{'engine ' + name:<28}{res['setup_s']:>9.1f}{res['median_epoch_s']:>10.2f}"
                  f"{res['median_images_per_s']:>11.0f}{res['ratio_over_seed']:>8.2f}x{res['steps']:>7}")
        else:
            print(f"{'engine ' + name:<28}  failed: {res.get('error', 'no epoch timed')}")
    best, ratio = summary["engine_config"], summary["ratio_images_per_s_engine_over_seed"]
    if best is None:
        print("no engine config finished an epoch")
        return
    print(f"best engine config {best}: {ratio:.2f}x seed 001's images/s at batch {B} "
          f"(target >= {TARGET_RATIO:.0f}x: {'pass' if summary['target_met'] else 'FAIL'}); vs the issue's H100 "
          f"seed figure ({SEED_H100_IMAGES_PER_S} img/s): "
          f"{summary['engine']['median_images_per_s'] / SEED_H100_IMAGES_PER_S:.2f}x (only meaningful on an H100)")


def summarise(seed_loop: SeedLoop, seed_times: list[float], results: dict[str, dict]) -> dict:
    """Medians and ratios of the repeats so far; `engine` is the fastest config."""
    s_med = statistics.median(seed_times)
    s_ips = seed_loop.images_per_epoch / s_med
    for res in results.values():
        if res.get("epoch_s"):
            res["median_epoch_s"] = statistics.median(res["epoch_s"])
            res["median_images_per_s"] = res["images_per_epoch"] / res["median_epoch_s"]
            res["ratio_over_seed"] = res["median_images_per_s"] / s_ips
    timed_ok = {n: r for n, r in results.items() if "median_images_per_s" in r}
    best = max(timed_ok, key=lambda n: timed_ok[n]["median_images_per_s"]) if timed_ok else None
    ratio = timed_ok[best]["ratio_over_seed"] if best else 0.0
    return {
        "repeats_done": len(seed_times),
        "seed": {"epoch_s": seed_times, "median_epoch_s": s_med, "images_per_epoch": seed_loop.images_per_epoch,
                 "steps": seed_loop.steps_per_epoch, "median_images_per_s": s_ips},
        "engine_config": best, "engine": timed_ok.get(best, {}), "variants": results,
        "ratio_images_per_s_engine_over_seed": ratio,
        "target_ratio": TARGET_RATIO, "target_met": ratio >= TARGET_RATIO,
        "seed_h100_images_per_s_reference": SEED_H100_IMAGES_PER_S,
    }


if __name__ == "__main__":
    sys.exit(main())
