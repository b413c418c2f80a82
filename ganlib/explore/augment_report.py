"""The augmentation experiment's records as a table with spreads and as plain sentences.

    table = summary_table(result["records"])   # one row per arm and size: mean, std, min, max over seeds
    lines = reading(result)                    # "At 10 real images per class, adding 500 generated ..."

The reading says when augmentation hurts as plainly as when it helps, and calls a difference
only when it is larger than the noise: twice the standard error over seeds (with one seed,
that of the finite held-out test set). It also measures seed 003's two cons: "limited by the
available data in diversity" (how many real images per class the generated ones are worth,
against how many the generator learnt from) and "can overfit to the real training data" (the
CAS classifier on the generator's training images against unseen ones).
"""
from __future__ import annotations

import math
from typing import Any, Optional

# arm -> (what the classifier trained on, what it was tested on); {n} real, {k} generated per class
ARMS = {
    "real": ("{n} real", "held-out real"),
    "real+gen": ("{n} real + {k} generated", "held-out real"),
    "gen": ("{k} generated (CAS)", "held-out real"),
    "gan-test": ("{n} real (GAN-test)", "generated"),
    "gen-seen": ("{k} generated", "the generator's training images"),
}
ARM_LABELS = {"real": "real only", "real+gen": "real + generated", "gen": "generated only (CAS)",
              "gan-test": "GAN-test: trained on real, tested on generated",
              "gen-seen": "generated only, tested on the generator's training images"}
MIN_MARGIN = 0.005  # differences under half a point are never called


def _stats(values: list[float]) -> dict[str, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"accuracy": round(mean, 4), "std": round(std, 4), "min": min(values), "max": max(values), "seeds": n}


def summary_table(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows {arm, trained_on, tested_on, real_per_class, generated_per_class, accuracy (the mean
    over seeds), std, min, max, seeds}: per size real, real+gen and gan-test, then gen and gen-seen."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["arm"], r["real_per_class"]), []).append(r)
    order = list(ARMS)
    keys = sorted(groups, key=lambda key: (key[1] == 0, key[1], order.index(key[0])))
    k = max((r["generated_per_class"] for r in records), default=0)
    rows = []
    for arm, n in keys:
        group = groups[arm, n]
        trained, tested = ARMS[arm]
        rows.append({"arm": arm, "trained_on": trained.format(n=n, k=k) + " per class", "tested_on": tested,
                     "real_per_class": n, "generated_per_class": group[0]["generated_per_class"],
                     **_stats([r["accuracy"] for r in group])})
    return rows


def _margin(a: dict[str, Any], b: dict[str, Any], test_size: int) -> float:
    """Twice the standard error of b - a: over seeds, or with one seed that of the test set."""
    if a["seeds"] > 1 and b["seeds"] > 1:
        se = math.sqrt(a["std"] ** 2 / a["seeds"] + b["std"] ** 2 / b["seeds"])
    else:
        p, q = a["accuracy"], b["accuracy"]
        se = math.sqrt((p * (1 - p) + q * (1 - q)) / max(1, test_size))
    return max(MIN_MARGIN, 2 * se)


def worth_in_real(acc: float, real: list[tuple[int, float]]) -> tuple[str, Optional[float]]:
    """Where accuracy `acc` falls on the real-only curve [(n, accuracy)]: ("below"|"above", None)
    outside it, else ("about", n) interpolated on log n."""
    if acc < real[0][1]:
        return "below", None
    if acc > real[-1][1]:
        return "above", None
    for (n0, a0), (n1, a1) in zip(real, real[1:]):
        if a0 <= acc <= a1 or a1 <= acc <= a0:
            t = 0.0 if a1 == a0 else (acc - a0) / (a1 - a0)
            return "about", math.exp(math.log(n0) + t * (math.log(n1) - math.log(n0)))
    return "about", float(real[-1][0])  # a non-monotone curve: its last size


def reading(result: dict[str, Any]) -> list[str]:
    """The outcome in plain sentences, in the order a reader asks: did adding generated images
    help at each size, what are generated images alone worth, and the two cons of seed 003."""
    rows = {(r["arm"], r["real_per_class"]): r for r in summary_table(result["records"])}
    k = result["settings"]["generated_per_class"]
    test = result.get("heldout_images") or 1000
    sizes = sorted(n for arm, n in rows if arm == "real")
    lines = []
    for n in sizes:
        a, b = rows["real", n], rows["real+gen", n]
        diff, margin = b["accuracy"] - a["accuracy"], _margin(a, b, test)
        if diff > margin:
            verb = f"raised accuracy from {a['accuracy']:.1%} to {b['accuracy']:.1%}"
        elif diff < -margin:
            verb = f"lowered accuracy from {a['accuracy']:.1%} to {b['accuracy']:.1%}: here the generated images hurt"
        else:
            verb = (f"left accuracy about where it was ({a['accuracy']:.1%} without, {b['accuracy']:.1%} with: "
                    f"less than the noise of ±{margin:.1%})")
        lines.append(f"At {n} real images per class, adding {k} generated ones {verb}.")

    cas = rows["gen", 0]["accuracy"]
    real_curve = [(n, rows["real", n]["accuracy"]) for n in sizes]
    where, n_eq = worth_in_real(cas, real_curve)
    if where == "below":
        worth = f"less than {sizes[0]} real images per class give ({real_curve[0][1]:.1%})"
    elif where == "above":
        worth = f"more than {sizes[-1]} real images per class give ({real_curve[-1][1]:.1%})"
    else:
        worth = f"about what {n_eq:.0f} real images per class give"
    lines.append(f"Trained on the {k} generated images per class alone, a classifier scores {cas:.1%} on the "
                 f"{test:,} held-out real images (the Classification Accuracy Score): {worth}.")
    per_class = result["generator_trained_on"] // max(1, result.get("num_classes") or 10)
    if where != "above" and (n_eq is None or n_eq < per_class):
        lines.append(f"Seed 003's first con, measured: the generator learnt from {per_class} real images per class, "
                     "but what it makes is worth fewer real ones: generated data is limited by the diversity "
                     "the generator captured.")
    else:
        lines.append(f"The generated images are worth as much as the {per_class} real images per class the "
                     "generator learnt from, or more: no sign here of seed 003's first con (limited diversity).")

    top = sizes[-1]
    gt, r_top = rows["gan-test", top]["accuracy"], rows["real", top]["accuracy"]
    lines.append(f"GAN-test: the classifier trained on {top} real images per class labels {gt:.1%} of the "
                 f"generated images as the class they were asked for ({r_top:.1%} on held-out real images). "
                 + ("The samples look like their classes, so CAS trails real data through too little variety, "
                    "not through wrong digits." if gt >= r_top - 0.02 and cas < r_top - 0.05 else
                    "Many samples do not look like the class asked for." if gt < r_top - 0.1 else ""))

    if ("gen-seen", 0) in rows:
        seen, unseen = rows["gen-seen", 0], rows["gen", 0]
        gap, margin = seen["accuracy"] - unseen["accuracy"], _margin(unseen, seen, test)
        if gap > margin:
            lines.append(f"Seed 003's second con, measured: the CAS classifier scores {seen['accuracy']:.1%} on "
                         f"images the generator trained on but {unseen['accuracy']:.1%} on unseen ones, so the "
                         "generator partly reproduces its training set (Evaluate shows the nearest training images).")
        else:
            lines.append(f"The CAS classifier scores {seen['accuracy']:.1%} on images the generator trained on and "
                         f"{unseen['accuracy']:.1%} on unseen ones: no sign that the generator overfits its training "
                         "set (seed 003's second con).")
    if sizes[0] < per_class:
        lines.append(f"Keep in mind: the generator learnt from {per_class} real images per class, more than the "
                     f"smallest sets here, so at {sizes[0]} per class the generated images carry what it saw in "
                     "real images the small classifier never got; someone with only that many real images would "
                     f"gain less (train the GAN with max images {sizes[0] * (result.get('num_classes') or 10)} to "
                     "ask that question).")
    return lines
