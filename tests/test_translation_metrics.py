"""The translation metrics against known answers, and the copy baseline beside each."""
import math

import pytest
import torch
from torch import nn

from ganlib.data import load_dataset
from ganlib.metrics.evaluation import evaluate_generator
from ganlib.metrics.translation import PSNR_CAP_DB, l1, psnr, ssim
from ganlib.models.handle import GeneratorHandle


def test_identical_images_score_l1_0_ssim_1_and_the_psnr_cap():
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    assert l1(x, x) == 0.0
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-6)
    assert psnr(x, x) == pytest.approx(PSNR_CAP_DB)


def test_known_distances():
    black, white = -torch.ones(2, 1, 16, 16), torch.ones(2, 1, 16, 16)
    assert l1(black, white) == pytest.approx(1.0)  # every pixel off by the full range
    assert psnr(black, white) == pytest.approx(0.0)  # MSE 1 on the 0-1 scale
    half = torch.zeros(2, 1, 16, 16)
    assert l1(half, white) == pytest.approx(0.5)
    assert psnr(half, white) == pytest.approx(10 * math.log10(4))
    noisy = (white - 0.5 * torch.rand(2, 1, 16, 16)).clamp(-1, 1)
    assert 0 < ssim(noisy, white) < 1


class Copy(nn.Module):
    """A translator that does nothing: every score must equal its copy baseline."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x, labels=None):
        return x + self.w

    def back(self, y):
        return y + self.w


def test_a_copying_translator_scores_the_copy_baseline_and_no_cycle_error():
    data = load_dataset("edges2digits", max_images=64)
    res = evaluate_generator(GeneratorHandle(Copy(), 1), data, extractor="digits")
    row = res.row
    for k in ("l1", "psnr", "ssim", "fid", "content_acc"):
        assert row[k] == pytest.approx(row[f"{k}_copy"]), k
    assert row["cycle_l1"] == 0.0 and row["eval_n"] == 1000
    assert row["l1_copy"] > 0.05  # edge maps are far from the digits


def test_the_held_out_targets_themselves_preserve_content():
    """A translator that outputs the true target (via a lookup) scores L1 0, SSIM 1, and the
    classifier's accuracy on real digits."""
    data = load_dataset("edges2digits", max_images=64)
    held = data.held_out

    class Oracle(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(()))
            self.pos = 0  # the metrics translate the split in order, chunk by chunk

        def forward(self, x, labels=None):
            out = held.images[self.pos:self.pos + x.shape[0]] + self.w
            self.pos += x.shape[0]
            return out

    row = evaluate_generator(GeneratorHandle(Oracle(), 1), data, extractor="digits").row
    assert row["l1"] == 0.0 and row["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert row["content_acc"] > 0.97 and row["content_acc_copy"] < row["content_acc"]
    assert math.isnan(row["cycle_l1"])
