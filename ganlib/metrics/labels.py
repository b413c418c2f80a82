"""How each evaluation metric is named and shown: one table for the dashboard and the CLI, so
a new metric gets its label, formats and help in one place.

    METRIC_LABELS["fid"].title        # "FID"; `label` is the same word mid-sentence ("precision")
    format(v, METRIC_LABELS["kid"].tile_fmt)

Keys are the columns an evaluation adds to metrics.csv; the order is that of the tiles and tables.
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

    @property
    def title(self) -> str:
        """The label as a heading: "Precision", "Class KL"."""
        return self.label[:1].upper() + self.label[1:]


METRIC_LABELS: dict[str, MetricLabel] = {m.name: m for m in (
    MetricLabel("fid", "FID", "fid_std", ".2f", ".4f", True,
                "Fréchet distance between real and generated features; lower is better. "
                "± is the bootstrap std over generated samples."),
    MetricLabel("kid", "KID", "kid_std", ".4g", ".5f", True,
                "Kernel inception distance (unbiased MMD², cubic kernel); lower is better. "
                "± is the std over random subsets."),
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
)}
