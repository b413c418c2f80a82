"""Trains the emoji classifier behind the `emoji` extractor and writes its shipped weights.

The weights are a build product of this script, so they can be checked and made again offline:
`emoji_train` only (the held-out fifth, `emoji_heldout`, is never seen), read as 32 and 64 px
(64 px brought to the network's 32 as a run's 64 px samples are) on three grounds (white, the
dataset's default, black and mid-gray: transparent pixels become whatever a run's `background`
says), sorted into the dataset's 9 Unicode groups. Light augmentation (mirror, rotation, shift,
scale), Adam with a one-cycle schedule, a few minutes on 2 CPU cores. Then the features'
standardisation is fixed on the training emoji (white ground, 32 px, unaugmented), after the
weights are rounded to float16 as shipped, so the file holds exactly what is evaluated. It
writes `emoji_cnn.safetensors` and `emoji_cnn.json` (held-out accuracy, held-out FID, data,
seed, date, command).

    python -m ganlib.metrics.train_emoji_classifier --out ganlib/metrics/weights
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from ganlib.data import load_dataset
from ganlib.metrics.classifier_training import (
    accuracy,
    fit_one_cycle,
    heldout_fid,
    indices_digest,
    random_affine,
    set_standardisation,
    write_weights,
)
from ganlib.metrics.extractor_emoji import EmojiCNN, to_emoji_input

GROUNDS = ("white", "black", "#808080")
SIZES = (32, 64)


def load_versions(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(V, N, 3, 32, 32) float in [-1, 1]: every version (ground x size) of the split's images
    as the network takes them, and their int64 group labels."""
    versions, labels = [], None
    for ground in GROUNDS:
        for size in SIZES:
            d = load_dataset(split, channels=3, image_size=size, background=ground)
            versions.append(to_emoji_input(d.first(len(d))))
            labels = d.labels.clone()
    return torch.stack(versions), labels


def augmenter(g: torch.Generator):
    """Per image: one of the versions, mirrored half the time, rotated, shifted and scaled a little."""
    def augment(x: torch.Tensor) -> torch.Tensor:  # x: (B, V, 3, 32, 32)
        b = x.shape[0]
        pick = x[torch.arange(b), torch.randint(0, x.shape[1], (b,), generator=g)]
        flip = torch.rand(b, generator=g) < 0.5
        pick = torch.where(flip.view(-1, 1, 1, 1), pick.flip(-1), pick)
        return random_affine(pick, g, max_deg=8.0, max_shift_px=2.0, max_scale=0.1, padding_mode="border")
    return augment


def train(seed: int = 0, epochs: int = 60, batch_size: int = 64, lr: float = 3e-3, log=print) -> tuple[EmojiCNN, dict]:
    x_tr, y_tr = load_versions("emoji_train")
    x_te, y_te = load_versions("emoji_heldout")
    plain_tr, plain_te = x_tr[0], x_te[0]  # white ground, 32 px: the dataset's defaults
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    net = EmojiCNN()
    seconds = fit_one_cycle(net.train(), x_tr.transpose(0, 1), y_tr, augmenter(g), g, epochs=epochs,
                            batch_size=batch_size, lr=lr, test=lambda: accuracy(net, plain_te, y_te), log=log)
    net.load_state_dict({k: v.half().to(v.dtype) if v.is_floating_point() else v
                         for k, v in net.state_dict().items()})  # as shipped: float16
    set_standardisation(net, plain_tr)
    net.standardise.mean.copy_(net.standardise.mean.half().float())  # the buffers ship in float16 too
    net.standardise.std.copy_(net.standardise.std.half().float())
    per_version = {f"{ground} ground, {size} px": round(accuracy(net, x_te[i * len(SIZES) + j], y_te), 4)
                   for i, ground in enumerate(GROUNDS) for j, size in enumerate(SIZES)}
    test_acc = accuracy(net, plain_te, y_te)
    info = {
        "test_accuracy": round(test_acc, 4),
        "test_correct": int(round(test_acc * len(y_te))),
        "test_size": len(y_te),
        "test_accuracy_per_version": per_version,
        "chance_accuracy": round(torch.bincount(y_te).max().item() / len(y_te), 4),
        "train_accuracy": round(accuracy(net, plain_tr, y_tr), 4),
        "data": "emoji_train (ganlib.data.emoji: Twemoji 72x72 RGBA in 9 Unicode groups, skin-tone variants left "
                f"out), read at {SIZES} px on grounds {GROUNDS}, brought to 32x32",
        "split": {"train": "emoji_train", "test": "emoji_heldout", "train_size": len(y_tr), "test_size": len(y_te),
                  "test_labels_sha256": indices_digest(y_te)},
        "seed": seed,
        "training": {"epochs": epochs, "batch_size": batch_size, "optimizer": "Adam", "max_lr": lr,
                     "weight_decay": 1e-4, "schedule": "OneCycleLR",
                     "augmentation": "per image: one of the 6 versions (ground x size), mirror p=0.5, rotation "
                                     "U(-8, 8) deg, shift U(-2, 2) px, scale U(0.9, 1.1), border padding",
                     "seconds": round(seconds, 1), "threads": torch.get_num_threads()},
        "architecture": "3 x (conv3x3-BN-ReLU-maxpool2) with 32, 64, 128 channels, 2x2 average pool, fc 512->128, "
                        "ReLU, dropout 0.3, fc 128->9 (logits); float16 weights",
        "features": {"layer": "fc 512->128 before its ReLU",
                     "standardised": f"per dimension, with the mean and std (N-1) of the {len(y_tr)} training emoji's "
                                     "features (white ground, 32 px, unaugmented, eval mode)",
                     "heldout_fid": round(heldout_fid(net, plain_tr, plain_te), 4),
                     "heldout_fid_is": f"FID of the {len(y_te)} held-out emoji against the {len(y_tr)} training emoji"},
        "parameters": sum(p.numel() for p in net.parameters()),
        "input": "(N, 3, 32, 32) in [-1, 1]",
        "torch": torch.__version__,
    }
    return net, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "weights"), help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3, help="one-cycle peak learning rate")
    args = ap.parse_args(argv)
    t0 = time.time()
    net, info = train(args.seed, args.epochs, args.batch_size, args.lr)
    command = "python -m ganlib.metrics.train_emoji_classifier " + " ".join(argv if argv is not None else sys.argv[1:])
    weights = write_weights(net, info, Path(args.out), "emoji_cnn", command, dtype=torch.float16)
    print(f"held-out accuracy {info['test_accuracy']:.4f} on {info['test_size']} emoji (chance "
          f"{info['chance_accuracy']:.2f}); wrote {weights} ({info['weights_bytes'] / 1e3:.0f} KB) "
          f"in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
