"""How each evaluation metric is named and shown: one table for the dashboard and the CLI, so
a new metric gets its label, formats and help in one place.

    METRIC_LABELS["fid"].title        # "FID"; `label` is the same word mid-sentence ("precision")
    METRIC_LABELS["kid"].tile(v)      # "8.02": KID is shown x 10^3, its label says so ("KID ×10³")

Keys are the columns an evaluation adds to metrics.csv; the order is that of the tiles and tables.
Files (metrics.csv, evals.jsonl, the CLI's --json) keep the raw values; only what a person reads
is scaled. Tile formats are short: a tile's value must fit a narrow column without an ellipsis,
so a ± std goes into the tile's help, never into its value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class MetricLabel:
    name: str  # the metrics.csv column
    label: str  # as written inside a sentence or a CLI table: "precision", "class KL"
    std: Optional[str]  # the column holding its ± std, if it has one
    tile_fmt: str  # dashboard tiles: few digits
    table_fmt: str  # the CLI's table: enough digits to compare runs
    lower_is_better: bool
    help: str
    scale: float = 1.0  # shown = stored * scale (KID: 1e3, as its label says)

    @property
    def title(self) -> str:
        """The label as a heading: "Precision", "Class KL"."""
        return self.label[:1].upper() + self.label[1:]

    def tile(self, v: float, signed: bool = False) -> str:
        """A stored value as a dashboard tile shows it (scaled, few digits; `signed` for a change)."""
        return format(v * self.scale, ("+" if signed else "") + self.tile_fmt)

    def table(self, v: float) -> str:
        """A stored value as the CLI's table shows it (scaled, enough digits to compare runs)."""
        return format(v * self.scale, self.table_fmt)


METRIC_LABELS: dict[str, MetricLabel] = {m.name: m for m in (
    MetricLabel("fid", "FID", "fid_std", ".2f", ".4f", True,
                "Fréchet distance between real and generated features; lower is better. "
                "± is the bootstrap std over generated samples."),
    MetricLabel("kid", "KID ×10³", "kid_std", ".2f", ".3f", True,
                "Kernel inception distance (unbiased MMD², cubic kernel) times 1,000; lower is better. "
                "± is the std over random subsets. Unbiased: real against real averages 0.", scale=1e3),
    MetricLabel("is_mean", "IS", "is_std", ".2f", ".4f", False,
                "Inception score from the extractor's class logits; higher is better. "
                "It never looks at real data."),
    MetricLabel("precision", "precision", None, ".3f", ".4f", False,
                "Share of generated samples inside the real data's k-NN manifold (quality, k=3); higher is better."),
    MetricLabel("recall", "recall", None, ".3f", ".4f", False,
                "Share of real samples inside the generated k-NN manifold (diversity, k=3); falls when the "
                "generator drops modes."),
    MetricLabel("classes_covered", "classes covered", None, ".0f", ".0f", False,
                "Classes the classifier finds among the generated samples."),
    MetricLabel("class_kl", "class KL", None, ".3f", ".4f", True,
                "KL divergence from the real class histogram to the generated one; "
                "0 when the classes are as frequent as in the data."),
    MetricLabel("label_acc", "label accuracy", None, ".1%", ".4f", False,
                "Conditional models: share of samples the classifier recognises as the label they were asked for."),
    MetricLabel("fid_floor", "FID floor (real vs real)", None, ".2f", ".4f", True,
                "FID of other real images of the data against the same reference, at the same N and "
                "extractor: what a perfect generator would score. FID is biased upward by about dim / N, "
                "so this, not 0, is the best value."),
    MetricLabel("kid_floor", "KID ×10³ floor (real vs real)", None, ".2f", ".3f", True,
                "KID (times 1,000) of other real images against the same reference, at the same N: "
                "about 0 up to its noise.", scale=1e3),
    # image-to-image translation (metrics/translation.py), on the held-out split
    MetricLabel("l1", "L1 to target", None, ".3f", ".4f", True,
                "Mean |output - target| per pixel on the 0-1 scale; 0 is a perfect translation."),
    MetricLabel("psnr", "PSNR (dB)", None, ".1f", ".2f", False,
                "Peak signal-to-noise ratio of the outputs against the targets; higher is better."),
    MetricLabel("ssim", "SSIM", None, ".3f", ".4f", False,
                "Structural similarity (pytorch-msssim) of the outputs and the targets; 1 is identical."),
    MetricLabel("content_acc", "content preserved", None, ".1%", ".4f", False,
                "Share of outputs the digit classifier calls the source image's digit."),
    MetricLabel("cycle_l1", "cycle error", None, ".3f", ".4f", True,
                "CycleGAN: mean |G_BA(G_AB(a)) - a| per pixel on the 0-1 scale."),
    *(MetricLabel(f"{k}_copy", f"{lbl}, copy baseline", None, fmt, tfmt, low,
                  "The same measure for the input copied unchanged: what doing nothing scores.")
      for k, lbl, fmt, tfmt, low in (("l1", "L1 to target", ".3f", ".4f", True),
                                     ("psnr", "PSNR (dB)", ".1f", ".2f", False),
                                     ("ssim", "SSIM", ".3f", ".4f", False), ("fid", "FID", ".2f", ".4f", True),
                                     ("content_acc", "content preserved", ".1%", ".4f", False))),
)}
