"""A run's health in plain words, from its per-epoch rows (metrics.csv), its evaluation records
(evals.jsonl) and its status: what is going on, the evidence, and the one change most likely
to help. Pure: no files, no torch, so the Train page, `python -m ganlib runs` and the Home page
judge a run the same way.

    v = verdict(rows, evals, status, loss="nonsaturating")
    v.kind, v.headline, v.detail, v.advice      # "mode_collapse", "Mode collapse: 1 of 10 classes", ...
    v.level, v.short                            # "error", "collapse 1/10"

The rules run in the order of `RULES`; the first that finds something wins, else the run is
`learning` (evaluated, nothing wrong) or `too_early` (nothing to judge yet). The thresholds:

- diverged: the run's state is `diverged`, or the last epoch has a loss that is NaN, infinite or
  above HUGE_LOSS in size (1e4: GAN losses sit near 0-10, a WGAN critic's in the tens), or a
  gradient norm above HUGE_GRAD (1e5).
- mode collapse, on the state: the latest evaluation's classes covered is at most half the classes
  (COLLAPSE_SHARE), so a run that covers 1 of 10 from its first evaluation on is collapsed; or it
  fell by LOST_CLASSES (2) or more from an earlier evaluation of the same extractor and N. Without
  a class count (no classifier of the data's classes): recall at most RECALL_NEAR_ZERO (0.02) at
  the last two evaluations while precision is at least 0.2 (typical samples of a few kinds).
- D winning (BCE losses only, where D(G(z)) is a probability): mean D(G(z)) below D_FAKE_LOW
  (0.05) for D_WIN_EPOCHS (3) epochs in a row. At 0.05 G's loss is -log 0.05 = 3 and the
  minimax gradient has all but vanished; a balanced GAN sits near 0.3-0.5. One such epoch
  happens at the start, when D learns first; three in a row is a trend.
- classes missing (the families that `NOT_JUDGED` spares the collapse rule): the latest
  evaluation covers at most half the classes: the model has not learned the labels yet.
- stalled: three or more comparable evaluations, the best FID two or more evaluations back and
  the latest above it by more than STALL_RISE (10 %).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from ganlib.core.numbers import finite_or_none, number
from ganlib.core.registry import Registry
from ganlib.losses import LOSSES

HUGE_LOSS = 1e4
HUGE_GRAD = 1e5
COLLAPSE_SHARE = 0.5
LOST_CLASSES = 2
RECALL_NEAR_ZERO = 0.02
D_FAKE_LOW = 0.05
D_WIN_EPOCHS = 3
STALL_RISE = 0.10
LOSS_COLUMNS = ("d_loss", "g_loss", "neg_elbo", "fm_loss")
GRAD_COLUMNS = ("grad_norm_d", "grad_norm_g")
# Rules a model kind is not judged by. Mode collapse and D winning are what a discriminator does
# to its generator; a diffusion model has no discriminator, and its regression loss sees every
# image, so few classes among its samples means "not learned yet" (classes_missing), not collapse.
NOT_JUDGED: dict[str, frozenset[str]] = {"diffusion": frozenset({"mode_collapse", "d_winning"})}

# kind -> (level of the coloured box: success / info / warning / error, word for the runs table)
KINDS: dict[str, tuple[str, str]] = {
    "learning": ("success", "learning"),
    "too_early": ("info", "too early"),
    "mode_collapse": ("error", "collapse"),
    "d_winning": ("warning", "D winning"),
    "classes_missing": ("warning", "classes missing"),
    "stalled": ("warning", "stalled"),
    "diverged": ("error", "diverged"),
    "failed": ("error", "failed"),
    "unknown": ("info", "?"),
}


@dataclass(frozen=True)
class Verdict:
    kind: str  # a key of KINDS
    headline: str  # one line a person reads first
    detail: str = ""  # the evidence, with its numbers
    advice: str = ""  # the one change most likely to help
    short: str = ""  # the runs table's cell; KINDS' word when empty

    @property
    def level(self) -> str:
        return KINDS[self.kind][0]

    @property
    def label(self) -> str:
        return self.short or KINDS[self.kind][1]


UNREADABLE = Verdict("unknown", "Cannot judge this run: its files are unreadable.", short="?")


@dataclass
class Evidence:
    """What the rules look at, read once from the rows."""
    rows: list[dict[str, Any]]
    evals: list[dict[str, Any]]  # the evaluated rows comparable with the latest (same extractor and N)
    status: dict[str, Any]
    bce: Optional[bool]
    num_classes: Optional[int]
    records: list[dict[str, Any]] = field(default_factory=list)
    kind: Optional[str] = None  # the model's kind ("gan", "vae", "diffusion", ...); None: unknown


Rule = Callable[[Evidence], Optional[Verdict]]
RULES: Registry[Rule] = Registry("health rule")


def verdict(rows: Sequence[dict[str, Any]], evals: Optional[Sequence[dict[str, Any]]] = None,
            status: Optional[dict[str, Any]] = None, *, loss: Optional[str] = None,
            num_classes: Optional[int] = None, kind: Optional[str] = None) -> Verdict:
    """The verdict on a run: `rows` are metrics.csv's per-epoch rows, `evals` evals.jsonl's
    records (they give the number of classes), `status` status.json, `loss` the config's loss
    (BCE losses make D(G(z)) a probability; None: no D-winning rule), `kind` the model's kind
    (the rules in `NOT_JUDGED` for it are skipped)."""
    rows = [dict(r) for r in rows]
    records = list(evals or [])
    ev = Evidence(rows, _comparable_evals(rows), dict(status or {}),
                  LOSSES.get(loss).bce if loss in LOSSES else None,
                  num_classes or _classes_of(records), records, kind)
    for name in RULES:
        if name in NOT_JUDGED.get(kind or "", ()):
            continue
        found = RULES.get(name)(ev)
        if found is not None:
            return found
    return _learning(ev) if ev.evals else _too_early(ev)


# ---- reading the rows ----------------------------------------------------------------------
def _epoch(row: dict[str, Any]) -> str:
    e = finite_or_none(row.get("epoch"))
    return str(int(e)) if e is not None else "?"


def _comparable_evals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with an evaluation, of the same extractor and N as the latest one: FIDs at other
    N or with another extractor are on other scales."""
    ev = [r for r in rows if finite_or_none(r.get("fid")) is not None
          or finite_or_none(r.get("classes_covered")) is not None]
    if not ev:
        return []
    key = (ev[-1].get("extractor"), finite_or_none(ev[-1].get("eval_n")))
    return [r for r in ev if (r.get("extractor"), finite_or_none(r.get("eval_n"))) == key]


def _classes_of(records: list[dict[str, Any]]) -> Optional[int]:
    for rec in reversed(records):
        for k in ("real_hist", "gen_hist"):
            if rec.get(k):
                return len(rec[k])
    return None


def _of(k: float, n: Optional[int]) -> str:
    return f"{k:.0f} of {n}" if n else f"{k:.0f}"


# ---- the rules, in the order they are tried ---------------------------------------------------
@RULES.register("failed")
def _failed(ev: Evidence) -> Optional[Verdict]:
    if ev.status.get("state") != "failed":
        return None
    error = " ".join(str(ev.status.get("error") or "no error recorded").split())
    return Verdict("failed", "Failed: the run stopped with an error.", error[:300],
                   "Read the error: it names what to fix (often a config value or missing data).")


@RULES.register("diverged")
def _diverged(ev: Evidence) -> Optional[Verdict]:
    advice = "Lower the learning rates (lr_g and lr_d, e.g. by 10x); a gradient penalty or spectral norm also helps."
    if ev.status.get("state") == "diverged":
        error = " ".join(str(ev.status.get("error") or "").split())
        return Verdict("diverged", f"Diverged at epoch {ev.status.get('epoch', '?')}.", error[:300], advice)
    if not ev.rows:
        return None
    last = ev.rows[-1]
    for col, limit in [(c, HUGE_LOSS) for c in LOSS_COLUMNS] + [(c, HUGE_GRAD) for c in GRAD_COLUMNS]:
        v = number(last.get(col))
        if v is not None and (math.isnan(v) or abs(v) > limit):
            return Verdict("diverged", f"Diverged: {col} is {v:.3g} at epoch {_epoch(last)}.",
                           f"A {col} {'that is not a number' if math.isnan(v) else f'above {limit:g} in size'} "
                           "means the updates have blown up; later epochs learn nothing.", advice)
    return None


@RULES.register("mode_collapse")
def _mode_collapse(ev: Evidence) -> Optional[Verdict]:
    if not ev.evals:
        return None
    advice = "Try the recommended preset, or raise the batch size (minibatch std in D also fights collapse)."
    last, n = ev.evals[-1], ev.num_classes
    k = finite_or_none(last.get("classes_covered"))
    recall = finite_or_none(last.get("recall"))
    extra = f"; recall {recall:.2f}" if recall is not None else ""
    acc = finite_or_none(last.get("label_acc"))
    extra += f"; label accuracy {acc:.0%}" if acc is not None else ""
    if k is not None:
        if (n and k <= n * COLLAPSE_SHARE) or (not n and k <= 1):
            first = (" This is the first evaluation, and a generator that has not learned yet looks the same: "
                     "if the next one still shows it, the run has collapsed.") if len(ev.evals) == 1 else ""
            return Verdict("mode_collapse", f"Mode collapse: {_of(k, n)} classes.",
                           f"At epoch {_epoch(last)} the classifier finds only {_of(k, n)} classes among the "
                           f"samples{extra}: G makes a few kinds of image, whatever the noise.{first}", advice,
                           short=f"collapse {k:.0f}/{n}" if n else f"collapse {k:.0f}")
        earlier = [c for c in (finite_or_none(r.get("classes_covered")) for r in ev.evals[:-1]) if c is not None]
        if earlier and max(earlier) - k >= LOST_CLASSES:
            return Verdict("mode_collapse", f"Mode collapse starting: classes covered fell from {max(earlier):.0f} "
                           f"to {_of(k, n)}.", f"At epoch {_epoch(last)}{extra}.", advice,
                           short=f"collapse {k:.0f}/{n}" if n else f"collapse {k:.0f}")
        return None
    recalls = [finite_or_none(r.get("recall")) for r in ev.evals[-2:]]
    precision = finite_or_none(last.get("precision"))
    if len(recalls) == 2 and None not in recalls and max(recalls) <= RECALL_NEAR_ZERO \
            and precision is not None and precision >= 0.2:
        return Verdict("mode_collapse", f"Mode collapse: recall {recalls[-1]:.2f}.",
                       f"At the last two evaluations (epoch {_epoch(last)}) the samples are typical (precision "
                       f"{precision:.2f}) but cover almost none of the real images' variety.", advice,
                       short="collapse")
    return None


@RULES.register("d_winning")
def _d_winning(ev: Evidence) -> Optional[Verdict]:
    if not ev.bce or len(ev.rows) < D_WIN_EPOCHS:
        return None
    recent = [finite_or_none(r.get("d_fake")) for r in ev.rows[-D_WIN_EPOCHS:]]
    if None in recent or max(recent) >= D_FAKE_LOW:
        return None
    return Verdict("d_winning", f"D is winning: D(G(z)) below {D_FAKE_LOW:g} for {D_WIN_EPOCHS} epochs.",
                   f"D(G(z)) was {', '.join(f'{v:.3f}' for v in recent)} in epochs "
                   f"{_epoch(ev.rows[-D_WIN_EPOCHS])}-{_epoch(ev.rows[-1])}: D rejects every sample, so G "
                   "gets almost no gradient to learn from.",
                   "Lower lr_d (halve it), or add label smoothing 0.1 or DiffAugment.")


@RULES.register("classes_missing")
def _classes_missing(ev: Evidence) -> Optional[Verdict]:
    """Reached only by the kinds that skip mode collapse (which catches the same numbers first)."""
    if not ev.evals:
        return None
    last, n = ev.evals[-1], ev.num_classes
    k = finite_or_none(last.get("classes_covered"))
    if k is None or not n or k > n * COLLAPSE_SHARE:
        return None
    return Verdict("classes_missing", f"Not every class yet: {_of(k, n)} classes.",
                   f"At epoch {_epoch(last)} the classifier finds only {_of(k, n)} classes among samples drawn "
                   "for every label: the model has not learned what the labels look like yet.",
                   "Let it train longer; if it stays, raise guidance (it needs label_dropout above 0).",
                   short=f"classes {k:.0f}/{n}")


@RULES.register("stalled")
def _stalled(ev: Evidence) -> Optional[Verdict]:
    fids = [(r, finite_or_none(r.get("fid"))) for r in ev.evals]
    fids = [(r, f) for r, f in fids if f is not None]
    if len(fids) < 3:
        return None
    best_i = min(range(len(fids)), key=lambda i: fids[i][1])
    (best_row, best), (last_row, now) = fids[best_i], fids[-1]
    if len(fids) - 1 - best_i < 2 or now <= best * (1 + STALL_RISE):
        return None
    return Verdict("stalled", f"Stalled: FID has not improved since epoch {_epoch(best_row)}.",
                   f"Best FID {best:.1f} at epoch {_epoch(best_row)}, {now:.1f} at epoch {_epoch(last_row)}.",
                   "Lower the learning rates (halve lr_g and lr_d); ckpt/best.pt keeps the best generator.")


# ---- no problem found ------------------------------------------------------------------------
def _learning(ev: Evidence) -> Verdict:
    last, n = ev.evals[-1], ev.num_classes
    parts = []
    fids = [f for f in (finite_or_none(r.get("fid")) for r in ev.evals) if f is not None]
    if len(fids) >= 2:
        parts.append(f"FID {fids[0]:.1f} → {fids[-1]:.1f} over {len(fids)} evaluations")
    elif fids:
        parts.append(f"FID {fids[0]:.1f} at the first evaluation")
    k = finite_or_none(last.get("classes_covered"))
    if k is not None:
        parts.append(f"{_of(k, n)} classes covered")
    acc = finite_or_none(last.get("label_acc"))
    if acc is not None:
        parts.append(f"label accuracy {acc:.0%}")
    falling = len(fids) >= 2 and fids[-1] < fids[0]
    headline = "Learning: FID falling, nothing wrong." if falling else "Learning: nothing wrong so far."
    return Verdict("learning", headline, f"Epoch {_epoch(last)}: " + ", ".join(parts) + "." if parts else "",
                   "Nothing to change: let it train.")


def _too_early(ev: Evidence) -> Verdict:
    if not ev.rows:
        return Verdict("too_early", "Too early to judge: no epoch has finished yet.", "",
                       "Wait for the first epoch.")
    return Verdict("too_early", f"Too early to judge: {len(ev.rows)} epoch(s), no evaluation yet.",
                   "The losses show no sign of trouble; the verdict on collapse and progress needs an evaluation.",
                   "Wait for the first evaluation (eval every > 0), or evaluate a checkpoint on Evaluate.")
