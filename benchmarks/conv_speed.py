"""Time seed 001's conv GAN loop, as the seed wrote it, against ganlib's engine with the same
networks (`dcgan`, variant `seed001`), on the same device, the same data and the same batch size.

    python benchmarks/conv_speed.py                               # 50,000 images, 3 repeats, auto device
    python benchmarks/conv_speed.py --images 3200 --repeats 1     # quick check that it runs
    python benchmarks/conv_speed.py --device cuda --json out.json # also write the numbers as JSON

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

Engine side: `ganlib.training.prepare` + `Trainer.train_epoch` on a benchmark-only dataset
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
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.train_speed import timed  # noqa: E402  (clock read after torch.cuda.synchronize)

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
        DATASETS.add(BENCH_DATASET, lambda data_path="", image_size=32: _BENCH_DATA["raw"])


# ---- seed 001, as written ----------------------------------------------------------------
class Generator(nn.Module):
    def __init__(self, latent_dim):
        super(Generator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(latent_dim, 128 * 8 * 8),
            nn.ReLU(),
            nn.Unflatten(1, (128, 8, 8)),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128, momentum=0.78),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64, momentum=0.78),
            nn.ReLU(),
            nn.Conv2d(64, 3, kernel_size=3, padding=1),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.BatchNorm2d(64, momentum=0.82),
            nn.LeakyReLU(0.25),
            nn.Dropout(0.25),
            nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(128, momentum=0.82),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(128, 256, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(256, momentum=0.8),
            nn.LeakyReLU(0.25),
            nn.Dropout(0.25),
            nn.Flatten(),
            nn.Linear(256 * 5 * 5, 1),
            nn.Sigmoid()
        )

    def forward(self, img):
        validity = self.model(img)
        return validity


class SeedLoop:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, device: torch.device, seed: int,
                 batch_size: int):
        torch.manual_seed(seed)
        self.device = device
        train_dataset = torch.utils.data.TensorDataset(images.float().div_(127.5).sub_(1.0), labels)
        self.dataloader = torch.utils.data.DataLoader(train_dataset, batch_size=batch_size, shuffle=True)
        self.generator = Generator(LATENT_DIM).to(device)
        self.discriminator = Discriminator().to(device)
        self.adversarial_loss = nn.BCELoss()
        self.optimizer_G = torch.optim.Adam(self.generator.parameters(), lr=LR, betas=(BETA1, BETA2))
        self.optimizer_D = torch.optim.Adam(self.discriminator.parameters(), lr=LR, betas=(BETA1, BETA2))
        self.epoch = 0
        self.images_per_epoch = len(train_dataset)
        self.steps_per_epoch = len(self.dataloader)
        self.message = ""

    def run(self, max_steps: int | None = None) -> str:
        """One epoch of the seed's loop (or its first `max_steps` steps, for warm-up)."""
        generator, discriminator, adversarial_loss = self.generator, self.discriminator, self.adversarial_loss
        optimizer_G, optimizer_D, dataloader, device = self.optimizer_G, self.optimizer_D, self.dataloader, self.device
        latent_dim, epoch, num_epochs = LATENT_DIM, self.epoch, 10
        for i, batch in enumerate(dataloader):
            if max_steps is not None and i >= max_steps:
                break
            real_images = batch[0].to(device)
            valid = torch.ones(real_images.size(0), 1, device=device)
            fake = torch.zeros(real_images.size(0), 1, device=device)
            real_images = real_images.to(device)

            optimizer_D.zero_grad()
            z = torch.randn(real_images.size(0), latent_dim, device=device)
            fake_images = generator(z)
            real_loss = adversarial_loss(discriminator(real_images), valid)
            fake_loss = adversarial_loss(discriminator(fake_images.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            optimizer_D.step()

            optimizer_G.zero_grad()
            gen_images = generator(z)
            g_loss = adversarial_loss(discriminator(gen_images), valid)
            g_loss.backward()
            optimizer_G.step()

            if (i + 1) % 100 == 0:  # the seed prints this; we keep the string (and its two syncs)
                self.message = (f"Epoch [{epoch+1}/{num_epochs}] Batch {i+1}/{len(dataloader)} "
                                f"Discriminator Loss: {d_loss.item():.4f} "
                                f"Generator Loss: {g_loss.item():.4f}")
        return self.message or f"d_loss {d_loss.item():.4f}, g_loss {g_loss.item():.4f}"


# ---- ganlib's engine ---------------------------------------------------------------------
class EngineLoop:
    def __init__(self, device_name: str, seed: int, runs_dir: str, batch_size: int):
        from ganlib.config import TrainConfig
        from ganlib.training import Callbacks, prepare

        self.cfg = TrainConfig(dataset=BENCH_DATASET, model="dcgan", variant="seed001", channels=3, image_size=32,
                               loss="nonsaturating", epochs=1000, batch_size=batch_size, latent_dim=LATENT_DIM,
                               lr_g=LR, lr_d=LR, beta1=BETA1, beta2=BETA2, seed=seed, device=device_name,
                               eval_every=0)
        self.trainer = prepare(self.cfg, runs_dir=runs_dir)
        self.trainer.start_step = 0  # set by Trainer.fit(); train_epoch's progress report reads it
        self.callbacks = Callbacks()
        self.device = self.trainer.device
        self.batch_size = batch_size
        self.steps_per_epoch = len(self.trainer.data) // batch_size
        self.images_per_epoch = self.steps_per_epoch * batch_size
        self.last_row: dict | None = None

    def warmup(self, steps: int) -> None:
        t, B = self.trainer, self.batch_size
        t.G.train()
        t.D.train()
        for i in range(steps):
            idx = torch.arange(i * B, (i + 1) * B, device=self.device) % len(t.data)
            t.steps.batch(t.data.images[idx], None, i, 0.0)

    def run(self) -> str:
        row = self.trainer.train_epoch(self.callbacks, time.perf_counter())
        self.trainer.epoch += 1
        self.last_row = row
        return f"epoch {row['epoch']}: d_loss {row['d_loss']:.4f}, g_loss {row['g_loss']:.4f}"


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
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    a = p.parse_args(argv)
    if a.batch_size < 2 or a.images < a.batch_size or a.repeats < 1 or a.warmup_steps < 0 or a.threads < 0:
        p.error("need --batch-size >= 2, --images >= batch size, --repeats >= 1, --warmup-steps >= 0, --threads >= 0")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(shlex.quote(s) for s in [sys.executable, os.path.relpath(__file__), *argv])

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no GPU is visible")
    device_name = args.device
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device_name)
    B = args.batch_size

    images, labels = make_images(args.images, args.seed)
    register_engine_dataset(images, labels)

    dev_desc = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU ({platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()})"
    print(f"command: {command}")
    print(f"torch {torch.__version__}, python {platform.python_version()}, device {device} [{dev_desc}]")
    print(f"data: {len(images):,} random uint8 images 3x32x32 (CIFAR-10's shape); batch {B}; "
          f"seed DataLoader(TensorDataset) num_workers=0 (the default, as the seed ran)")

    with tempfile.TemporaryDirectory(prefix="ganlib-bench-") as runs_dir:
        seed_loop = SeedLoop(images, labels, device, args.seed, B)
        engine = EngineLoop(device_name, args.seed, runs_dir, B)

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
    ratio = e_ips / s_ips
    print()
    print(f"{'median of ' + str(args.repeats):<14}{'epoch s':>10}{'images/s':>12}{'steps':>8}")
    print(f"{'seed 001':<14}{s_med:>10.2f}{s_ips:>12.0f}{seed_loop.steps_per_epoch:>8}")
    print(f"{'ganlib engine':<14}{e_med:>10.2f}{e_ips:>12.0f}{engine.steps_per_epoch:>8}")
    verdict = "pass" if ratio >= TARGET_RATIO else "FAIL"
    print(f"engine/seed images/s: {ratio:.2f}x at batch {B} (target >= {TARGET_RATIO:.0f}x: {verdict}); "
          f"engine vs the issue's H100 seed figure ({SEED_H100_IMAGES_PER_S} img/s): "
          f"{e_ips / SEED_H100_IMAGES_PER_S:.2f}x (only meaningful on an H100)")
    print("timings are noisy on a machine shared with other work; repeat before trusting a ratio")
    print(f"device {device}; command: {command}")

    if args.json:
        result = {
            "command": command, "argv": argv,
            "torch": torch.__version__, "python": platform.python_version(),
            "device": str(device), "device_name": dev_desc, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "data": "random uint8 3x32x32", "images": len(images),
            "batch_size": B, "warmup_steps": args.warmup_steps, "repeats": args.repeats, "seed_num_workers": 0,
            "seed": {"epoch_s": seed_times, "median_epoch_s": s_med, "images_per_epoch": seed_loop.images_per_epoch,
                     "steps": seed_loop.steps_per_epoch, "median_images_per_s": s_ips},
            "engine": {"epoch_s": engine_times, "engine_reported_epoch_s": engine_reported, "median_epoch_s": e_med,
                       "images_per_epoch": engine.images_per_epoch, "steps": engine.steps_per_epoch,
                       "median_images_per_s": e_ips},
            "ratio_images_per_s_engine_over_seed": ratio,
            "target_ratio": TARGET_RATIO, "target_met": ratio >= TARGET_RATIO,
            "seed_h100_images_per_s_reference": SEED_H100_IMAGES_PER_S,
        }
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
