"""A small emoji classifier as a feature extractor: the offline metric for the built-in `emoji`.

The FID Inception needs a 90 MB download, and the digit CNN knows only digits. This CNN was
trained on `emoji_train` alone (four fifths of the Twemoji drawings, in the dataset's 9 Unicode
groups), so `emoji_heldout` is new to it; it ships with the package in float16
(`weights/emoji_cnn.safetensors`, 324 KB) and runs in milliseconds on a CPU.
`weights/emoji_cnn.json` records how it was made (data, seed, held-out accuracy, held-out FID,
command); `python -m ganlib.metrics.train_emoji_classifier --out ganlib/metrics/weights` makes it
again.

Its 128 features are the penultimate layer before the ReLU, standardised by the training emoji's
mean and std (as the digit CNN's), so FID is in units of the real emoji's own spread. What FID
on them can tell: whether samples have the colours, shapes and layout of emoji and are spread
over the kinds the groups separate (a face, an animal, a flag): held-out emoji score 1.5 against
the training emoji, digits over 100 (docs/PERF.md, "The emoji extractor"). What it cannot tell:
fine detail the network never needed to sort 1,494 drawings into 9 groups, nor anything
comparable with published FIDs (those are Inception's). Its 9-way logits give classes covered,
class KL and, for a conditional run on emoji's groups, label accuracy, read beside its held-out
accuracy (72 % over 9 groups, `emoji_cnn.json`), far from a digit classifier's 99 %.

    ext = FEATURE_EXTRACTORS.get("emoji")(device="cpu")
    f, logits = ext.features_and_logits(images)  # images (N, C, H, W) in [-1, 1]
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.data.emoji import GROUPS
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorSpec, FitProbe
from ganlib.metrics.classifier_extractor import ClassifierExtractor, Standardise, load_weights, weights_path

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "emoji_cnn.safetensors"
INPUT_SIZE = 32
REMAKE = "python -m ganlib.metrics.train_emoji_classifier --out {folder}"


class EmojiCNN(nn.Module):
    """conv32-pool-conv64-pool-conv128-pool, a 2x2 average grid, fc128, fc9, with BatchNorm;
    input (N, 3, 32, 32) in [-1, 1]. The 2x2 grid keeps where things are (a face's eyes above
    its mouth) at a quarter of a flattened layer's weights."""

    feature_dim = 128
    num_classes = len(GROUPS)

    def __init__(self, dropout: float = 0.3):
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]

        self.conv = nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128),  # 32 -> 16 -> 8 -> 4
                                  nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.fc = nn.Sequential(nn.Linear(128 * 4, self.feature_dim), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.feature_dim, self.num_classes)
        self.standardise = Standardise(self.feature_dim)  # not trained: set after training

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc[0](self.conv(x))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pre = self.pre_activation(x)
        return self.standardise(pre), self.head(self.dropout(self.fc[1](pre)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.fc(self.conv(x))))


def to_emoji_input(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] (N, C, H, W) of any size -> (N, 3, 32, 32): gray repeated over RGB, antialiased
    bilinear resize."""
    x = images.float()
    if x.shape[1] != 3:
        x = x[:, :1].expand(-1, 3, -1, -1)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x


class EmojiClassifierExtractor(ClassifierExtractor):
    name = "emoji"
    feature_dim = EmojiCNN.feature_dim
    num_classes = EmojiCNN.num_classes
    description = ("Emoji CNN trained on emoji_train (Twemoji, 9 Unicode groups): 128-d penultimate features "
                   "(before the ReLU, standardised by the training emoji's mean and std), 9-way logits, inputs "
                   "as 32x32 colour")

    def __init__(self, net: EmojiCNN, batch_size: int = 1024):
        super().__init__(net, to_emoji_input, GROUPS, batch_size)


def make_emoji_classifier(device: torch.device | str = "cpu",
                          weights: Optional[str] = None) -> EmojiClassifierExtractor:
    path = weights_path(weights, DEFAULT_WEIGHTS)
    net = load_weights(EmojiCNN(), path, REMAKE.format(folder=path.parent))
    return EmojiClassifierExtractor(net).to(device)


FEATURE_EXTRACTORS.add("emoji", ExtractorSpec(
    make_emoji_classifier, "emoji-like drawings (Twemoji: flat colour shapes on a plain ground)",
    datasets=frozenset({"emoji", "emoji_train", "emoji_heldout"}),
    probe=FitProbe("emoji_train", 32, 3, max_fid=40.0), class_names=tuple(GROUPS)))
