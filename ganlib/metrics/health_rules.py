"""The health verdict's rules, in the order they are tried (`health.RULES`); each names its
thresholds and the model kinds it judges. tests/test_health_rules.py holds each rule both ways,
on rows of real short runs kept in tests/fixtures/health (a transparent-icon folder read on
black, colour icons at 28 px, a collapsed run, the default recipe) and on hand-made rows.

Rules that need no feature extractor (the state, the losses, D's scores, the samples' spread in
pixels) judge every run; those on FID, precision, recall and classes judge the runs that have them.
"""
from __future__ import annotations

import math
import statistics
from typing import Optional

from ganlib.core.numbers import finite_or_none, number
from ganlib.metrics.health import (
    Evidence,
    Verdict,
    advise,
    epoch_of,
    fid_values,
    has,
    of,
    preset_option,
    rule,
)

HUGE_LOSS = 1e4
HUGE_GRAD = 1e5
EXPLODE_FACTOR = 100.0
COLLAPSE_SHARE = 0.5
LOST_CLASSES = 2
RECALL_NEAR_ZERO = 0.02
PR_NEAR_ZERO = 0.02
EARLY_FALL = 0.5  # ... unless FID is at most half the untrained generator's (it is learning) ...
EARLY_EVALS = 2  # ... at one of the first two evaluations: then it is "not yet", not "not learning"
PIXEL_ALIKE = 0.25
SPREAD_FALL = 0.5  # ... and below half the untrained generator's spread: it fell, it did not just stay low
D_FAKE_LOW = 0.05
D_WIN_EPOCHS = 3
D_LOSS_ZERO = 0.01
STUCK_EPOCHS = 5
STUCK_CHANGE = 1e-4
STALL_RISE = 0.10
LOSS_COLUMNS = ("d_loss", "g_loss", "neg_elbo", "fm_loss")
GRAD_COLUMNS = ("grad_norm_d", "grad_norm_g")
# The kinds whose generator draws from noise: their samples can collapse onto a few images. A diffusion
# model's regression loss sees every image: few classes among its samples means "not learned yet".
FROM_NOISE = ("gan", "stylegan", "vae")
# The kinds trained against a discriminator: D's scores can saturate.
ADVERSARIAL = ("gan", "stylegan", "pix2pix", "cyclegan")

LOWER_LR = "Lower the learning rates (lr_g and lr_d, e.g. by 10x); a gradient penalty or spectral norm also helps."
LOOK_AT_DATA = ("Look at the training images as the run reads them (the Train form's preview, or nearest training "
                "images on Samples): a wrong size, channel count or background teaches G the wrong pictures.")


@rule("failed", "the run's state is failed")
def failed(ev: Evidence) -> Optional[Verdict]:
    if ev.status.get("state") != "failed":
        return None
    error = " ".join(str(ev.status.get("error") or "no error recorded").split())
    return Verdict("failed", "Failed: the run stopped with an error.", error[:300],
                   "Read the error: it names what to fix (often a config value or missing data).")


@rule("diverged", f"the state is diverged, or the last epoch has a loss that is NaN, infinite or above {HUGE_LOSS:g} "
      f"in size, or a gradient norm above {HUGE_GRAD:g}")
def diverged(ev: Evidence) -> Optional[Verdict]:
    if ev.status.get("state") == "diverged":
        error = " ".join(str(ev.status.get("error") or "").split())
        return Verdict("diverged", f"Diverged at epoch {ev.status.get('epoch', '?')}.", error[:300], LOWER_LR)
    if not ev.rows:
        return None
    last = ev.rows[-1]
    for col, limit in [(c, HUGE_LOSS) for c in LOSS_COLUMNS] + [(c, HUGE_GRAD) for c in GRAD_COLUMNS]:
        v = number(last.get(col))
        if v is not None and (math.isnan(v) or abs(v) > limit):
            return Verdict("diverged", f"Diverged: {col} is {v:.3g} at epoch {epoch_of(last)}.",
                           f"A {col} {'that is not a number' if math.isnan(v) else f'above {limit:g} in size'} "
                           "means the updates have blown up; later epochs learn nothing.", LOWER_LR)
    return None


@rule("exploding", f"a loss or gradient norm of the last epoch is {EXPLODE_FACTOR:g} times the median of the "
      "epochs before it (at least 3, and above 1 in size): blowing up before it turns NaN")
def exploding(ev: Evidence) -> Optional[Verdict]:
    if len(ev.rows) < 4:
        return None
    for col in LOSS_COLUMNS + GRAD_COLUMNS:
        before = [abs(v) for v in (finite_or_none(r.get(col)) for r in ev.rows[:-1]) if v is not None]
        now = finite_or_none(ev.rows[-1].get(col))
        if len(before) < 3 or now is None or abs(now) <= 1:
            continue
        base = statistics.median(before)
        if abs(now) >= EXPLODE_FACTOR * max(base, 1e-12):
            return Verdict("exploding", f"Exploding: {col} is {now:.3g} at epoch {epoch_of(ev.rows[-1])}.",
                           f"About {abs(now) / max(base, 1e-12):,.0f} times its median of {base:.3g} over the "
                           "epochs before: the updates are blowing up and will turn into NaN.", LOWER_LR)
    return None


@rule("mode_collapse", f"the latest evaluation finds at most {COLLAPSE_SHARE:.0%} of the classes, or "
      f"{LOST_CLASSES} fewer than an earlier one; without a class count, recall at most {RECALL_NEAR_ZERO} at the "
      "last two evaluations while precision is at least 0.2", kinds=FROM_NOISE)
def mode_collapse(ev: Evidence) -> Optional[Verdict]:
    if not ev.evals:
        return None
    advice = _collapse_advice(ev)
    last, n = ev.evals[-1], ev.num_classes
    k = finite_or_none(last.get("classes_covered"))
    recall = finite_or_none(last.get("recall"))
    extra = f"; recall {recall:.2f}" if recall is not None else ""
    acc = finite_or_none(last.get("label_acc"))
    extra += f"; label accuracy {acc:.0%}" if acc is not None else ""
    short = f"collapse {k:.0f}/{n}" if k is not None and n else f"collapse {k or 0:.0f}"
    if k is not None:
        if (n and k <= n * COLLAPSE_SHARE) or (not n and k <= 1):
            first = (" This is the first evaluation, and a generator that has not learned yet looks the same: "
                     "if the next one still shows it, the run has collapsed.") if len(ev.evals) == 1 else ""
            return Verdict("mode_collapse", f"Mode collapse: {of(k, n)} classes.",
                           f"At epoch {epoch_of(last)} the classifier finds only {of(k, n)} classes among the "
                           f"samples{extra}: G makes a few kinds of image, whatever the noise.{first}", advice,
                           short=short)
        earlier = [c for c in (finite_or_none(r.get("classes_covered")) for r in ev.evals[:-1]) if c is not None]
        if earlier and max(earlier) - k >= LOST_CLASSES:
            return Verdict("mode_collapse", f"Mode collapse starting: classes covered fell from {max(earlier):.0f} "
                           f"to {of(k, n)}.", f"At epoch {epoch_of(last)}{extra}.", advice, short=short)
        return None
    recalls = [finite_or_none(r.get("recall")) for r in ev.evals[-2:]]
    precision = finite_or_none(last.get("precision"))
    if len(recalls) == 2 and None not in recalls and max(recalls) <= RECALL_NEAR_ZERO \
            and precision is not None and precision >= 0.2:
        return Verdict("mode_collapse", f"Mode collapse: recall {recalls[-1]:.2f}.",
                       f"At the last two evaluations (epoch {epoch_of(last)}) the samples are typical (precision "
                       f"{precision:.2f}) but cover almost none of the real images' variety.", advice,
                       short="collapse")
    return None


@rule("samples_alike", f"the latest evaluation's samples are less than {PIXEL_ALIKE:g} as spread out in pixels as "
      f"the real images (`pixel_spread`) and less than {SPREAD_FALL:g} of the untrained generator's spread (an "
      "untrained G's samples are often alike too: that is not yet learning, not a collapse): needs no extractor",
      kinds=FROM_NOISE)
def samples_alike(ev: Evidence) -> Optional[Verdict]:
    spread = finite_or_none(ev.evals[-1].get("pixel_spread")) if ev.evals else None
    start = next((finite_or_none(r.get("pixel_spread")) for r in ev.records if r.get("untrained")), None)
    if spread is None or spread >= PIXEL_ALIKE or (start is not None and spread >= SPREAD_FALL * start):
        return None
    since = f", and {start:.2f} before training" if start is not None else ""
    return Verdict("mode_collapse", f"Mode collapse: the samples are all alike (spread {spread:.2f}).",
                   f"At epoch {epoch_of(ev.evals[-1])} two samples differ, in pixels, by {spread:.0%} of what two "
                   f"real images differ by{since}: G draws nearly the same image whatever the noise.",
                   _collapse_advice(ev), short="collapse (alike)")


@rule("worse_than_untrained", "the latest FID is at or above the untrained generator's (same extractor and N): "
      "the samples are further from the data than at the start")
def worse_than_untrained(ev: Evidence) -> Optional[Verdict]:
    fids, ceiling = fid_values(ev), ev.ceiling
    if not fids or ceiling is None or fids[-1][1] < ceiling:
        return None
    row, fid = fids[-1]
    return Verdict("worse_than_untrained", "Not learning: the samples are worse than the untrained generator's.",
                   f"FID {fid:,.1f} at epoch {epoch_of(row)} against {ceiling:,.1f} before training (same "
                   f"extractor and N): nothing learnt is closer to the data than where the run started.",
                   advise(ev, [(lambda e: False, LOOK_AT_DATA), preset_option("If they look right, try the {preset} "
                                                                              "preset")], LOWER_LR))


@rule("precision_or_recall_near_zero", f"the latest precision or recall is at most {PR_NEAR_ZERO}: the samples are "
      f"unlike every real image, or cover none of them (at one of the first {EARLY_EVALS} evaluations with FID at "
      f"most {EARLY_FALL:g} times the untrained generator's: not yet, rather than not learning)")
def precision_or_recall_near_zero(ev: Evidence) -> Optional[Verdict]:
    if not ev.evals:
        return None
    last = ev.evals[-1]
    p, r = finite_or_none(last.get("precision")), finite_or_none(last.get("recall"))
    low = [f"{name} {v:.3f}" for name, v in (("precision", p), ("recall", r)) if v is not None and v <= PR_NEAR_ZERO]
    if not low:
        return None
    fids, ceiling = fid_values(ev), ev.ceiling
    if fids and ceiling is not None and fids[-1][1] <= ceiling * EARLY_FALL and len(ev.evals) <= EARLY_EVALS:
        return Verdict("too_early", f"Not learning yet, but on its way: {' and '.join(low)}.",
                       f"At epoch {epoch_of(last)}, evaluation {len(ev.evals)}: FID {fids[-1][1]:.1f} against the "
                       f"untrained generator's {ceiling:.1f}, so the samples are moving towards the data, but "
                       "they do not yet lie among the real images" + (" nor cover them" if len(low) == 2 else "")
                       + ". Early on that is normal; by the next evaluations it must change.",
                       "Let it train to the next evaluation.", short="early")
    return Verdict("not_learning", f"Not learning the data: {' and '.join(low)}.",
                   f"At epoch {epoch_of(last)} almost no sample lies among the real images' nearest neighbours"
                   + (" and almost no real image among the samples'" if len(low) == 2 else "")
                   + ": whatever the other numbers say, the samples are not the data's.",
                   advise(ev, [(lambda e: False, LOOK_AT_DATA), preset_option()], LOWER_LR))


@rule("classes_missing", f"kinds that cannot collapse the way a GAN does (diffusion): the latest evaluation finds at "
      f"most {COLLAPSE_SHARE:.0%} of the classes among samples drawn for every label", kinds=("diffusion",))
def classes_missing(ev: Evidence) -> Optional[Verdict]:
    if not ev.evals:
        return None
    last, n = ev.evals[-1], ev.num_classes
    k = finite_or_none(last.get("classes_covered"))
    if k is None or not n or k > n * COLLAPSE_SHARE:
        return None
    return Verdict("classes_missing", f"Not every class yet: {of(k, n)} classes.",
                   f"At epoch {epoch_of(last)} the classifier finds only {of(k, n)} classes among samples drawn "
                   "for every label: the model has not learned what the labels look like yet.",
                   "Let it train longer; if it stays, raise guidance (it needs label_dropout above 0).",
                   short=f"classes {k:.0f}/{n}")


@rule("d_winning", f"BCE losses: mean D(G(z)) below {D_FAKE_LOW} for {D_WIN_EPOCHS} epochs in a row (at 0.05 G's "
      "loss is -log 0.05 = 3 and the minimax gradient has all but vanished; a balanced GAN sits near 0.3-0.5)",
      kinds=ADVERSARIAL)
def d_winning(ev: Evidence) -> Optional[Verdict]:
    recent = _last_epochs(ev, "d_fake") if ev.bce else None
    if recent is None or max(recent) >= D_FAKE_LOW:
        return None
    return Verdict("d_winning", f"D is winning: D(G(z)) below {D_FAKE_LOW:g} for {D_WIN_EPOCHS} epochs.",
                   f"D(G(z)) was {', '.join(f'{v:.3f}' for v in recent)} in epochs {_span(ev)}: D rejects every "
                   "sample, so G gets almost no gradient to learn from.", _d_advice(ev))


@rule("d_saturated", f"losses with a margin or a target (hinge, LSGAN, BCE): D's loss at most {D_LOSS_ZERO} for "
      f"{D_WIN_EPOCHS} epochs in a row: D separates every real image from every sample", kinds=ADVERSARIAL)
def d_saturated(ev: Evidence) -> Optional[Verdict]:
    floored = ev.loss is not None and not ev.loss.clip and not ev.loss.needs_gp  # a critic's loss has no floor
    recent = _last_epochs(ev, "d_loss") if floored else None
    if recent is None or max(recent) > D_LOSS_ZERO:
        return None
    return Verdict("d_saturated", f"D's scores are saturated: its loss is {recent[-1]:.3g}.",
                   f"D's loss was {', '.join(f'{v:.3g}' for v in recent)} in epochs {_span(ev)}: it tells every "
                   "real image from every sample with room to spare, and G is not catching up.", _d_advice(ev))


def _last_epochs(ev: Evidence, col: str) -> Optional[list[float]]:
    """`col` of the last D_WIN_EPOCHS epochs, or None when there are fewer or one is missing."""
    recent = [finite_or_none(r.get(col)) for r in ev.rows[-D_WIN_EPOCHS:]]
    return recent if len(recent) == D_WIN_EPOCHS and None not in recent else None


def _span(ev: Evidence) -> str:
    return f"{epoch_of(ev.rows[-D_WIN_EPOCHS])}-{epoch_of(ev.rows[-1])}"


@rule("stuck", f"G's loss and D's loss both changed by less than {STUCK_CHANGE:g} (relative) over the last "
      f"{STUCK_EPOCHS} epochs, or G's gradient norm was 0")
def stuck(ev: Evidence) -> Optional[Verdict]:
    if len(ev.rows) < STUCK_EPOCHS:
        return None
    recent = ev.rows[-STUCK_EPOCHS:]
    grads = [finite_or_none(r.get("grad_norm_g")) for r in recent[-D_WIN_EPOCHS:]]
    if None not in grads and max(grads) == 0:
        return Verdict("stuck", "Stuck: G gets no gradient.", f"G's gradient norm was 0 in the last {len(grads)} "
                       "epochs: its weights no longer change.", LOWER_LR)
    for cols in (("d_loss", "g_loss"), ("neg_elbo",), ("fm_loss",)):
        series = [[finite_or_none(r.get(c)) for r in recent] for c in cols]
        if all(None not in s for s in series) and all(
                max(s) - min(s) <= STUCK_CHANGE * (1 + abs(statistics.fmean(s))) for s in series):
            return Verdict("stuck", "Stuck: the losses have stopped moving.",
                           f"{' and '.join(cols)} stayed at {', '.join(f'{s[-1]:.4g}' for s in series)} for "
                           f"{STUCK_EPOCHS} epochs: the networks no longer learn from each other.", LOWER_LR)
    return None


@rule("stalled", f"three or more comparable evaluations, the best FID two or more evaluations back and the latest "
      f"above it by more than {STALL_RISE:.0%}")
def stalled(ev: Evidence) -> Optional[Verdict]:
    fids = fid_values(ev)
    if len(fids) < 3:
        return None
    best_i = min(range(len(fids)), key=lambda i: fids[i][1])
    (best_row, best), (last_row, now) = fids[best_i], fids[-1]
    if len(fids) - 1 - best_i < 2 or now <= best * (1 + STALL_RISE):
        return None
    return Verdict("stalled", f"Stalled: FID has not improved since epoch {epoch_of(best_row)}.",
                   f"Best FID {best:.1f} at epoch {epoch_of(best_row)}, {now:.1f} at epoch {epoch_of(last_row)}.",
                   "Lower the learning rates (halve lr_g and lr_d); ckpt/best.pt keeps the best generator.")


# ---- advice ----------------------------------------------------------------------------------
def _collapse_advice(ev: Evidence) -> str:
    return advise(ev, [preset_option(),
                       (has("batch_size", lambda b: b >= 128), "Raise the batch size (to 128)"),
                       (has("minibatch_std", bool), "Turn on minibatch std in D, which fights collapse")],
                  LOWER_LR)


def _d_advice(ev: Evidence) -> str:
    return advise(ev, [(lambda e: False, "Lower lr_d (halve it)"),
                       (lambda e: not e.bce or has("label_smoothing", lambda s: s > 0)(e), "Add label smoothing 0.1"),
                       (has("diffaugment", bool), "Add DiffAugment (color,translation)")], LOWER_LR, most=3)
