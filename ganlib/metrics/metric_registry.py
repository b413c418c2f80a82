"""The metric registry: every number a run's metrics show, by its metrics.csv column, with how
it is computed, labelled, formatted and which way is better. Evaluation
(`metrics.evaluation`), the Evaluate table, Compare runs, the tiles, the charts and the CLI all
read it, so a new metric is a compute function in its family's file and one row here.

    METRICS.get("kid").title               # "KID ×10³"
    METRICS.get("kid").tile_text(0.008)    # "8.00": shown x 10^3, stored raw
    metric_label("d_loss")                 # "D loss"; an unregistered column reads as its words
    eval_columns("image")                  # the columns an evaluation of an image generator writes

`compute` maps a family to a function of that family's inputs returning {column: value}:
"image" (`image_metrics.ImageInputs`: a generator of images against real statistics),
"translation" (`translation.TranslationInputs`: an image-to-image translator on held-out
pairs) and "pixels" (`pixel_spread.PixelInputs`: samples and real images, no extractor). FID
has one of the first two each. A function may return companion columns beside its own (a std,
a copy baseline, the floor), registered here without a compute. The "training" columns are the
update rules' statistics: nothing here computes them. Files (metrics.csv, evals.jsonl, the
CLI's --json) keep raw values; only what a person reads is scaled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from ganlib.core.errors import BadValue
from ganlib.core.registry import Registry
from ganlib.metrics import image_metrics as im
from ganlib.metrics import pixel_spread as px
from ganlib.metrics import translation as tr

DIRECTIONS = ("lower", "higher", "")  # which way is better; "" for a diagnostic (D(x), a loss, a std)
# The inputs metrics are computed from: a generator's features against the real reference
# ("image"), a translator's held-out outputs ("translation"), and the images themselves, which
# need no extractor ("pixels": computed beside "image", and alone when no extractor fits).
FAMILIES = ("image", "translation", "pixels")
EVAL_INFO = ("eval_n", "extractor", "eval_time_s")  # what every evaluation row also holds: how it was measured


@dataclass(frozen=True)
class Metric:
    """One column of a run's metrics, with everything needed to compute and show it."""

    name: str  # the metrics.csv column
    label: str  # as written inside a sentence or a table: "precision", "class KL", "KID ×10³"
    direction: str  # "lower" or "higher" is better; "" for a diagnostic with no better side
    help: str = ""
    compute: Mapping[str, Callable[[Any], dict[str, float]]] = field(default_factory=dict)  # family -> fn
    std: Optional[str] = None  # the column holding its ± std, if it has one
    tile_fmt: str = ".3f"  # dashboard tiles: few digits (a ± std goes into the tile's help)
    table_fmt: str = ".4f"  # tables and the CLI: enough digits to compare runs
    scale: float = 1.0  # shown = stored * scale (KID: 1e3, as its label says)
    families: tuple[str, ...] = ()  # the evaluations that write it (beside those in `compute`); () for training
    tile: bool = False  # one of the tiles under the Train page's charts
    curve: bool = True  # offered as a curve on Compare runs

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise BadValue(f"metric {self.name}: direction must be lower, higher or empty, got {self.direction!r}")
        unknown = set(self.compute) - set(FAMILIES)
        if unknown:
            raise BadValue(f"metric {self.name}: unknown family {sorted(unknown)[0]!r}; known: {', '.join(FAMILIES)}")

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower"

    @property
    def title(self) -> str:
        """The label as a heading: "Precision", "Class KL"."""
        return self.label[:1].upper() + self.label[1:]

    def written_by(self, family: str) -> bool:
        return family in self.compute or family in self.families

    def tile_text(self, v: float, signed: bool = False) -> str:
        """A stored value as a dashboard tile shows it (scaled, few digits; `signed` for a change)."""
        return format(v * self.scale, ("+" if signed else "") + self.tile_fmt)

    def table_text(self, v: float) -> str:
        """A stored value as a table shows it (scaled, enough digits to compare runs)."""
        return format(v * self.scale, self.table_fmt)


@dataclass
class EvalResult:
    row: dict[str, Any]  # scalar columns for metrics.csv (`eval_columns(family)`)
    details: dict[str, Any] = field(default_factory=dict)  # per-class numbers, histograms
    warnings: list[str] = field(default_factory=list)


METRICS: Registry[Metric] = Registry("metric")
IMG, TR = ("image",), ("translation",)

for _m in (
    # ---- a generator of images against real statistics (image_metrics) ----
    Metric("fid", "FID", "lower", "Fréchet distance between real and generated features; lower is better. "
           "± is the bootstrap std over generated samples.",
           {"image": im.compute_fid, "translation": tr.compute_fid}, std="fid_std", tile_fmt=".2f",
           curve=False),  # its own charts (one per extractor and N, floor and ceiling): not a plain curve
    Metric("fid_std", "FID std", "", "Bootstrap std of FID over the generated samples.", tile_fmt=".2f",
           families=IMG, curve=False),
    Metric("kid", "KID ×10³", "lower", "Kernel inception distance (unbiased MMD², cubic kernel) times 1,000; "
           "lower is better. ± is the std over random subsets. Unbiased: real against real averages 0.",
           {"image": im.compute_kid}, std="kid_std", tile_fmt=".2f", table_fmt=".3f", scale=1e3),
    Metric("kid_std", "KID ×10³ std", "", "Std of KID over random subsets.", tile_fmt=".2f", table_fmt=".3f",
           scale=1e3, families=IMG, curve=False),
    Metric("is_mean", "IS", "higher", "Inception score from the extractor's class logits; higher is better. "
           "It never looks at real data.", {"image": im.compute_is}, std="is_std", tile_fmt=".2f", tile=True),
    Metric("is_std", "IS std", "", "Std of IS over 10 splits.", tile_fmt=".2f", families=IMG, curve=False),
    Metric("precision", "precision", "higher", "Share of generated samples inside the real data's k-NN manifold "
           "(quality, k=3); higher is better.", {"image": im.compute_precision}, tile=True),
    Metric("recall", "recall", "higher", "Share of real samples inside the generated k-NN manifold (diversity, "
           "k=3); falls when the generator drops modes.", {"image": im.compute_recall}, tile=True),
    Metric("classes_covered", "classes covered", "higher", "Classes the classifier finds among the generated "
           "samples.", {"image": im.compute_classes_covered}, tile_fmt=".0f", table_fmt=".0f", tile=True),
    Metric("class_kl", "class KL", "lower", "KL divergence from the real class histogram to the generated one; "
           "0 when the classes are as frequent as in the data.", {"image": im.compute_class_kl}, tile=True),
    Metric("label_acc", "label accuracy", "higher", "Conditional models: share of samples the classifier "
           "recognises as the label they were asked for.", {"image": im.compute_label_acc}, tile_fmt=".1%",
           tile=True),
    Metric("fid_floor", "FID floor (real vs real)", "lower", "FID of other real images of the data against the "
           "same reference, at the same N and extractor: what a perfect generator would score. FID is biased "
           "upward by about dim / N, so this, not 0, is the best value.", {"image": im.compute_floor},
           tile_fmt=".2f", curve=False),
    Metric("kid_floor", "KID ×10³ floor (real vs real)", "lower", "KID (times 1,000) of other real images against "
           "the same reference, at the same N: about 0 up to its noise.", std="kid_floor_std", tile_fmt=".2f",
           table_fmt=".3f", scale=1e3, families=IMG),
    Metric("kid_floor_std", "KID ×10³ floor std", "", "Std of the floor's KID over random subsets: a floor below 0 "
           "is 0 up to this noise.", tile_fmt=".2f", table_fmt=".3f", scale=1e3, families=IMG, curve=False),
    # ---- the samples themselves, no extractor (pixel_spread) ----
    Metric("pixel_spread", "sample spread (pixels)", "", "Mean distance between two samples over the mean distance "
           "between two real images (at most 32 px, 500 of each): about 1 when the samples vary as the data does, "
           "near 0 when they are all alike. Needs no feature extractor; it cannot tell whether they look real.",
           {"pixels": px.compute_pixel_spread}, tile_fmt=".2f", families=IMG, tile=True),
    # ---- an image-to-image translator on its held-out split (translation) ----
    Metric("l1", "L1 to target", "lower", "Mean |output - target| per pixel on the 0-1 scale; 0 is a perfect "
           "translation.", {"translation": tr.compute_l1}, tile=True),
    Metric("psnr", "PSNR (dB)", "higher", "Peak signal-to-noise ratio of the outputs against the targets; higher "
           "is better.", {"translation": tr.compute_psnr}, tile_fmt=".1f", table_fmt=".2f", tile=True),
    Metric("ssim", "SSIM", "higher", "Structural similarity (pytorch-msssim) of the outputs and the targets; 1 is "
           "identical.", {"translation": tr.compute_ssim}, tile=True),
    Metric("content_acc", "content preserved", "higher", "Share of outputs the digit classifier calls the source "
           "image's digit.", {"translation": tr.compute_content}, tile_fmt=".1%", tile=True),
    Metric("cycle_l1", "cycle error", "lower", "CycleGAN: mean |G_BA(G_AB(a)) - a| per pixel on the 0-1 scale.",
           {"translation": tr.compute_cycle}, tile=True),
    *(Metric(f"{k}_copy", f"{lbl}, copy baseline", low, "The same measure for the input copied unchanged: what "
             "doing nothing scores.", tile_fmt=fmt, table_fmt=tfmt, families=TR)
      for k, lbl, fmt, tfmt, low in (("l1", "L1 to target", ".3f", ".4f", "lower"),
                                     ("psnr", "PSNR (dB)", ".1f", ".2f", "higher"),
                                     ("ssim", "SSIM", ".3f", ".4f", "higher"), ("fid", "FID", ".2f", ".4f", "lower"),
                                     ("content_acc", "content preserved", ".1%", ".4f", "higher"))),
    # ---- the update rules' statistics, every epoch (computed in engine/update_rules) ----
    *(Metric(name, label, "", help) for name, label, help in (
        ("d_loss", "D loss", "The discriminator's loss, mean over the epoch's steps."),
        ("g_loss", "G loss", "The generator's loss (all its terms, weighted), mean over the epoch's steps."),
        ("neg_elbo", "negative ELBO", "A VAE's loss per image in nats: reconstruction + KL."),
        ("recon", "reconstruction", "A VAE's reconstruction term, per image, nats."),
        ("kl", "KL", "A VAE's KL term, per image, nats."),
        ("d_real", "D(x)", "Mean probability D gives real images; 0.5 when it can no longer tell."),
        ("d_fake", "D(G(z))", "Mean probability D gives generated images; 0.5 when it can no longer tell."),
        ("g_adv", "adversarial", "A translator's adversarial term (unweighted)."),
        ("g_l1", "L1 to target", "pix2pix: the L1 term to the target (unweighted)."),
        ("g_cycle", "cycle", "CycleGAN: the cycle-consistency term (unweighted)."),
        ("g_identity", "identity", "CycleGAN: the identity term (unweighted)."),
        ("d_a", "D_A loss", "CycleGAN: domain A's discriminator loss."),
        ("d_b", "D_B loss", "CycleGAN: domain B's discriminator loss."),
        ("grad_norm_g", "G grad norm", "Norm of G's gradient, mean over the steps: a spike warns of divergence."),
        ("grad_norm_d", "D grad norm", "Norm of D's gradient, mean over the steps."),
        ("penalty", "penalty", "The gradient penalty or R1 term, mean over the steps."),
        ("stage", "growth stage", "StyleGAN: the resolution stage it trains at (progressive growing)."),
        ("alpha", "fade-in", "StyleGAN: how far the newest stage is faded in (0 to 1)."),
    )),
):
    METRICS.add(_m.name, _m)

STD_COLUMNS = frozenset(METRICS.get(n).std for n in METRICS if METRICS.get(n).std)
for _name in STD_COLUMNS:  # a std named by a metric must be a registered column
    METRICS.get(_name)
TRAINING = tuple(n for n in METRICS if not METRICS.get(n).compute and not METRICS.get(n).families)


def metrics_of(family: str) -> list[Metric]:
    """The metrics an evaluation of `family` writes, in registration order (the order of tables
    and tiles), std columns included."""
    return [m for m in map(METRICS.get, METRICS) if m.written_by(family)]


def shown_metrics(family: Optional[str] = None) -> list[Metric]:
    """The metrics a table lists (a std is shown beside its metric, not as a row of its own);
    every family's when `family` is None."""
    return [m for m in map(METRICS.get, METRICS)
            if m.name not in STD_COLUMNS and any(m.written_by(f) for f in ((family,) if family else FAMILIES))]


def eval_columns(family: str = "image") -> tuple[str, ...]:
    """The columns an evaluation of `family` writes into metrics.csv."""
    return tuple(m.name for m in metrics_of(family)) + EVAL_INFO


def blank_row(family: str) -> dict[str, float]:
    """Every column of `family` as NaN: a metric that does not apply stays NaN in metrics.csv."""
    return {m.name: float("nan") for m in metrics_of(family)}


def compute_all(family: str, inputs: Any) -> dict[str, float]:
    """Run every compute of `family` over `inputs`, in registration order; the row holds every
    column of the family (NaN where a metric does not apply)."""
    row = blank_row(family)
    for m in metrics_of(family):
        fn = m.compute.get(family)
        if fn is not None:
            row.update(fn(inputs))
    return row


def metric_label(column: str) -> str:
    """A column's label; an unregistered one (a new statistic) reads as its words."""
    return METRICS.get(column).label if column in METRICS else column.replace("_", " ")
