"""Time seed 000's `calculate_fid`, as the seed wrote it, against ganlib's FID, on one device; and
the matrix square root alone: scipy's `sqrtm` against ganlib's `frechet_distance`.

    python benchmarks/fid_speed.py                                  # auto device, N = 10,000, 3 repeats
    python benchmarks/fid_speed.py --device cpu --n 500 --repeats 1 --warmup 0 --threads 1 --sqrtm-dim 1024
    python benchmarks/fid_speed.py --device cuda --json fid_speed.json

Seed side (seed 000, "Create FID"): `calculate_fid(model, real_images, fake_images)` exactly as
written, called with 128 real and 128 fake 28x28 grayscale images (one batch of the seed's
loop), except for the network's constructor: the seed's `inception_v3(pretrained=True,
transform_input=False)` downloads ImageNet weights, so it becomes
`inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)`, the same
architecture with random weights (no download possible, and the time does not depend on the
weight values). As in the seed, the network is REBUILT and moved to the device on every call,
the images are expanded to 3 channels and resized to 299x299 with F.interpolate, both batches go
through the network in one forward pass each with autograd on (the seed has no torch.no_grad),
its 1000 ImageNet logits are the "features", and the statistics are numpy's mean and cov with
`scipy.linalg.sqrtm` of the product of the covariances.

ganlib side: the extractor is built ONCE, `make_inception(device, random_weights=True,
amp=<device is cuda>)` (the FID Inception: pool3 features, 2048-d; bf16 autocast on CUDA). The
real statistics are precomputed (ganlib keeps them in a disk cache, so they are not part of an
evaluation): here they come from an untimed pass over `--n` images of a second generator seed,
which also serves as ganlib's warm-up. One timed evaluation = `ganlib.metrics.evaluation.
generated_features` (an mlp_gan generator, randomly initialised, draws `--n` images on the device
in chunks of 500, which go straight into the extractor), `RunningStats`, and `frechet_distance`
against the precomputed real mu/sigma.

Matrix square root alone: two sets of `--sqrtm-samples` (10,000) random feature-like vectors of
`--sqrtm-dim` (2048) dimensions (non-negative and correlated, like pooled ReLU features) give two
float64 covariances; then seed 000's formula with `scipy.linalg.sqrtm` (CPU, the only place it
runs) is timed against `ganlib.metrics.frechet.frechet_distance` on the CPU and, when the device is
CUDA, on the GPU. Both compute the same FID; the table shows the values and their difference.

Each side is warmed up (`--warmup` untimed seed calls; ganlib's reference pass), then the sides
run in turn `--repeats` times and the medians are reported. Clocks are read after
torch.cuda.synchronize() on CUDA. The script imports neither streamlit, plotly nor mlxtend.

Timings are only as good as the machine is quiet: on a CPU shared with other work, expect
run-to-run differences of 2x or more, especially with more than one thread (`--threads 1` is
steadier there).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import scipy
import torch
import torch.nn.functional as F
import torchvision
from scipy.linalg import sqrtm
from torchvision.models import inception_v3

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import median, start, sync, timed  # noqa: E402

LATENT_DIM = 100  # seed 000's latent_dim, and TrainConfig's default
device = torch.device("cpu")  # seed 000's module-level `device`; set in main()


# ---- seed 000, as written (only the constructor's weights differ; see the docstring) ---------------
def calculate_fid(model, real_images, fake_images, marks: Optional[list] = None):
    # `marks` (not in the seed) records clock readings between the seed's steps for the breakdown.

    inception = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False).to(device)
    inception.eval()
    _mark(marks)

    # Change images to size 299x299 (input size for Inception) and expand to 3 channels

    real_images_resized = F.interpolate(real_images.expand(-1, 3, -1, -1), size=(299, 299), mode='bilinear', align_corners=False)  # noqa: E501 - seed 000's line as written
    fake_images_resized = F.interpolate(fake_images.expand(-1, 3, -1, -1), size=(299, 299), mode='bilinear', align_corners=False)  # noqa: E501


    real_features = inception(real_images_resized).detach().cpu().numpy()
    fake_features = inception(fake_images_resized).detach().cpu().numpy()
    _mark(marks)


    mu_real, sigma_real = np.mean(real_features, axis=0), np.cov(real_features, rowvar=False)
    mu_fake, sigma_fake = np.mean(fake_features, axis=0), np.cov(fake_features, rowvar=False)


    ssdiff = np.sum((mu_real - mu_fake)**2.0)
    covmean = sqrtm(sigma_real.dot(sigma_fake))

    if np.iscomplexobj(covmean):
        covmean = covmean.real

    fid = ssdiff + np.trace(sigma_real + sigma_fake - 2.0 * covmean)
    _mark(marks)
    return fid


def seed_fid_from_moments(mu_real, sigma_real, mu_fake, sigma_fake) -> float:
    """The last lines of seed 000's calculate_fid (also pytorch-fid's formula, without its eps
    retry): the scipy side of the matrix square root comparison."""
    ssdiff = np.sum((mu_real - mu_fake)**2.0)
    covmean = sqrtm(sigma_real.dot(sigma_fake))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(ssdiff + np.trace(sigma_real + sigma_fake - 2.0 * covmean))


# ---- timing helpers ------------------------------------------------------------------------------
def _mark(marks: Optional[list]) -> None:
    if marks is not None:
        sync(device)
        marks.append(time.perf_counter())


# ---- the sides -----------------------------------------------------------------------------------
def make_generator(dev: torch.device, seed: int) -> torch.nn.Module:
    """ganlib's mlp_gan generator (seed 000's architecture), randomly initialised, in eval mode."""
    from ganlib.models import build_models
    from ganlib.store.config import TrainConfig

    torch.manual_seed(seed)
    G, _ = build_models(TrainConfig(model="mlp_gan", latent_dim=LATENT_DIM), 10)
    return G.to(dev).eval()


@torch.no_grad()
def seed_batches(G: torch.nn.Module, n: int, dev: torch.device, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's inputs: one batch of `real_imgs` and one of `fake_imgs`, (n, 1, 28, 28) in [-1, 1]
    on the device (generator outputs stand in for the real batch: content does not change the time)."""
    g = torch.Generator(device=dev).manual_seed(seed)
    real = G(torch.randn(n, LATENT_DIM, device=dev, generator=g))
    fake = G(torch.randn(n, LATENT_DIM, device=dev, generator=g))
    return real, fake


class GanlibFID:
    """ganlib's FID of `n` generated images against precomputed real statistics."""

    def __init__(self, dev: torch.device, n: int, seed: int):
        from ganlib.metrics.extractor_inception import make_inception

        self.dev, self.n = dev, n
        self.ext = make_inception(dev, random_weights=True, amp=dev.type == "cuda")
        self.G = make_generator(dev, seed)
        self.real_mu: Optional[torch.Tensor] = None
        self.real_sigma: Optional[torch.Tensor] = None

    def stats(self, seed: int, marks: Optional[list] = None):
        from ganlib.metrics.evaluation import generated_features
        from ganlib.metrics.feature_stats import RunningStats
        from ganlib.models.handle import GeneratorHandle

        feats, _, _ = generated_features(GeneratorHandle(self.G, LATENT_DIM), self.ext, self.n, device=self.dev,
                                         seed=seed)
        stats = RunningStats(self.ext.feature_dim, self.dev).update(feats)
        mu, sigma = stats.mean, stats.cov
        if marks is not None:
            sync(self.dev)
            marks.append(time.perf_counter())
        return mu, sigma

    def reference(self, seed: int) -> None:
        """The 'cached' real statistics (untimed; also the warm-up)."""
        self.real_mu, self.real_sigma = self.stats(seed)

    def fid(self, seed: int, marks: Optional[list] = None) -> float:
        from ganlib.metrics.frechet import frechet_distance

        mu, sigma = self.stats(seed, marks)
        value = frechet_distance(self.real_mu, self.real_sigma, mu, sigma)
        if marks is not None:
            sync(self.dev)
            marks.append(time.perf_counter())
        return value


def feature_like(n: int, dim: int, rng: np.random.Generator, shift: float) -> np.ndarray:
    """Non-negative, correlated vectors (a low-rank part plus noise, then |.|), like pooled ReLU
    features: full-rank covariance when n > dim."""
    rank = min(256, dim)
    w = rng.standard_normal((rank, dim)) / np.sqrt(rank)
    x = rng.standard_normal((n, rank)) @ w + 0.3 * rng.standard_normal((n, dim)) + shift
    return np.abs(x)


# ---- driver --------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--n", type=int, default=10_000, help="generated images per ganlib evaluation (default 10,000)")
    p.add_argument("--seed-images", type=int, default=128,
                   help="real and fake images per seed call (default 128: the seed's batch size)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per side; medians are reported")
    p.add_argument("--warmup", type=int, default=1, help="untimed seed calls before timing (default 1)")
    p.add_argument("--sqrtm-samples", type=int, default=10_000, help="samples behind each covariance (10,000)")
    p.add_argument("--sqrtm-dim", type=int, default=2048, help="covariance size for the square root timing (2048)")
    p.add_argument("--skip-sqrtm", action="store_true", help="leave out the matrix square root timing")
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads(N) (0 = torch's default); numpy/scipy use their own BLAS threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    a = p.parse_args(argv)
    if a.n < 2 or a.seed_images < 2 or a.repeats < 1 or a.warmup < 0 or a.threads < 0:
        p.error("need --n >= 2, --seed-images >= 2, --repeats >= 1, --warmup >= 0, --threads >= 0")
    if a.sqrtm_dim < 2 or a.sqrtm_samples < 2:
        p.error("need --sqrtm-dim >= 2 and --sqrtm-samples >= 2")
    return a


def main(argv=None) -> int:
    global device
    args = parse_args(argv)
    command, device, dev_desc = start(__file__, argv, args)
    dev = device
    versions = (f"torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {np.__version__}, "
                f"scipy {scipy.__version__}, python {platform.python_version()}")
    print(f"command: {command}")
    print(f"{versions}; device {dev} [{dev_desc}]")
    print(f"seed 000: {args.seed_images} real + {args.seed_images} fake 28x28 images per call, Inception v3 "
          f"(random weights) rebuilt per call, 1000-d logits, numpy cov + scipy.linalg.sqrtm")
    print(f"ganlib:   {args.n:,} generated images per evaluation, FID Inception built once "
          f"(random weights, amp={'bf16' if dev.type == 'cuda' else 'off'}), 2048-d pool3, RunningStats + "
          f"frechet_distance vs precomputed real statistics")
    sys.stdout.flush()

    # Inputs and one-time setup (untimed).
    G_seed = make_generator(dev, args.seed)
    real_imgs, fake_imgs = seed_batches(G_seed, args.seed_images, dev, args.seed + 1)
    ours = GanlibFID(dev, args.n, args.seed)
    t_ref, _ = timed(lambda: ours.reference(seed=args.seed + 2), dev)
    print(f"ganlib real statistics (untimed; warm-up): {args.n:,} images in {t_ref:.2f} s")
    for i in range(args.warmup):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_w, _ = timed(lambda: calculate_fid(inception_v3, real_imgs, fake_imgs), dev)
        print(f"seed warm-up call {i + 1}: {t_w:.2f} s")
    sys.stdout.flush()

    seed_rows, ours_rows = [], []
    seed_warnings: set[str] = set()
    for r in range(args.repeats):  # alternate the sides so drifting load hits both alike
        marks: list[float] = []
        sync(dev)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:  # scipy: "Matrix is singular" (N < 1000)
            warnings.simplefilter("always")
            fid_seed = float(calculate_fid(inception_v3, real_imgs, fake_imgs, marks))
        seed_warnings.update(" ".join(str(w.message).split()) for w in caught)
        t1 = marks[-1]
        seed_rows.append({"total_s": t1 - t0, "build_s": marks[0] - t0, "forward_s": marks[1] - marks[0],
                          "stats_sqrtm_s": marks[2] - marks[1], "fid": fid_seed})
        print(f"[{r + 1}/{args.repeats}] seed   {t1 - t0:8.2f} s  (build {marks[0] - t0:.2f}, forward "
              f"{marks[1] - marks[0]:.2f}, cov+sqrtm {marks[2] - marks[1]:.2f})  FID {fid_seed:.6g}")
        marks = []
        sync(dev)
        t0 = time.perf_counter()
        fid_ours = ours.fid(seed=args.seed + 3 + r, marks=marks)
        t1 = marks[-1]
        ours_rows.append({"total_s": t1 - t0, "features_s": marks[0] - t0, "frechet_s": marks[1] - marks[0],
                          "fid": fid_ours})
        print(f"[{r + 1}/{args.repeats}] ganlib {t1 - t0:8.2f} s  (generate+features+stats {marks[0] - t0:.2f}, "
              f"frechet_distance {marks[1] - marks[0]:.3f})  FID {fid_ours:.6g}")
        sys.stdout.flush()

    seed_imgs, ours_imgs = 2 * args.seed_images, args.n
    s_med = median([x["total_s"] for x in seed_rows])
    o_med = median([x["total_s"] for x in ours_rows])
    s_ips, o_ips = seed_imgs / s_med, ours_imgs / o_med
    print()
    print(f"FID per evaluation, median of {args.repeats}")
    print(f"{'':<34}{'images through Inception':>26}{'FID from N':>12}{'s per call':>12}{'images/s':>10}")
    print(f"{'seed 000 calculate_fid':<34}{seed_imgs:>26,}{args.seed_images:>12,}{s_med:>12.2f}{s_ips:>10.1f}")
    print(f"{'ganlib (cached real statistics)':<34}{ours_imgs:>26,}{args.n:>12,}{o_med:>12.2f}{o_ips:>10.1f}")
    print(f"images/s ganlib/seed: {o_ips / s_ips:.2f}x;  time per call ganlib/seed: {o_med / s_med:.2f}  "
          f"(ganlib's call embeds {ours_imgs / seed_imgs:.1f}x as many images)")
    print(f"seed breakdown (median s): build+to(device) {median([x['build_s'] for x in seed_rows]):.2f}, "
          f"forward {median([x['forward_s'] for x in seed_rows]):.2f}, "
          f"cov+sqrtm {median([x['stats_sqrtm_s'] for x in seed_rows]):.2f}")
    print(f"ganlib breakdown (median s): generate+features+RunningStats "
          f"{median([x['features_s'] for x in ours_rows]):.2f}, frechet_distance "
          f"{median([x['frechet_s'] for x in ours_rows]):.3f}")
    for w in sorted(seed_warnings):
        print(f"seed side warned: {w}")
    print("FID values: both networks have random weights, whose activations shrink layer by layer, so the "
          "values are tiny and meaningless; only the times count")

    result: dict[str, Any] = {
        "command": command, "argv": sys.argv, "torch": torch.__version__, "torchvision": torchvision.__version__,
        "numpy": np.__version__, "scipy": scipy.__version__, "python": platform.python_version(),
        "device": str(dev), "device_name": dev_desc, "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "repeats": args.repeats, "warmup": args.warmup,
        "seed": {"images_per_call": seed_imgs, "fid_n": args.seed_images, "feature_dim": 1000,
                 "calls": seed_rows, "median_s": s_med, "images_per_s": s_ips},
        "ganlib": {"images_per_call": ours_imgs, "fid_n": args.n, "feature_dim": 2048, "amp": dev.type == "cuda",
                   "reference_s": t_ref, "calls": ours_rows, "median_s": o_med, "images_per_s": o_ips},
        "ratio_images_per_s_ganlib_over_seed": o_ips / s_ips,
        "ratio_s_per_call_ganlib_over_seed": o_med / s_med,
        "seed_warnings": sorted(seed_warnings),
    }

    if not args.skip_sqrtm:
        result["sqrtm"] = time_sqrtm(args, dev)
    print(f"device {dev}; command: {command}")

    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def time_sqrtm(args: argparse.Namespace, dev: torch.device) -> dict[str, Any]:
    from ganlib.metrics.frechet import frechet_distance

    rng = np.random.default_rng(args.seed)
    n, d = args.sqrtm_samples, args.sqrtm_dim
    x, y = feature_like(n, d, rng, 0.0), feature_like(n, d, rng, 0.05)
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    del x, y
    sides: list[tuple[str, Callable[[], float], torch.device]] = [
        ("scipy.linalg.sqrtm (seed 000's formula), CPU", lambda: seed_fid_from_moments(mu1, s1, mu2, s2),
         torch.device("cpu")),
        ("ganlib frechet_distance, CPU", lambda: frechet_distance(mu1, s1, mu2, s2), torch.device("cpu")),
    ]
    if dev.type == "cuda":
        t = [torch.from_numpy(a).to(dev) for a in (mu1, s1, mu2, s2)]
        sides.append((f"ganlib frechet_distance, {dev}", lambda: frechet_distance(*t), dev))
        frechet_distance(*t)  # warm-up: cuSOLVER handles, kernels
    print()
    print(f"Matrix square root alone: FID of two {d}x{d} float64 covariances from {n:,} feature-like samples each")
    sys.stdout.flush()
    rows = []
    for label, fn, where in sides:
        times, value = [], float("nan")
        for _ in range(args.repeats):
            dt, value = timed(fn, where)
            times.append(dt)
        rows.append({"method": label, "times_s": times, "median_s": median(times), "fid": value})
    ref = rows[0]
    width = max(len(r["method"]) for r in rows) + 2
    print(f"{'':<{width}}{'median s':>10}{'scipy/this':>12}{'FID':>16}{'rel. diff vs scipy':>20}")
    for r in rows:
        rel = abs(r["fid"] - ref["fid"]) / max(abs(ref["fid"]), 1e-300)
        r["speedup_vs_scipy"] = ref["median_s"] / r["median_s"]
        r["rel_diff_vs_scipy"] = rel
        print(f"{r['method']:<{width}}{r['median_s']:>10.3f}{r['speedup_vs_scipy']:>11.1f}x"
              f"{r['fid']:>16.8g}{rel:>20.2e}")
    return {"dim": d, "samples": n, "rows": rows}


if __name__ == "__main__":
    sys.exit(main())
