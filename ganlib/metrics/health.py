"""A run's health in plain words, from its per-epoch rows (metrics.csv), its evaluation records
(evals.jsonl) and its status: what is going on, the evidence, and the one change most likely
to help. Pure: no files, no torch, so the Train page, `python -m ganlib runs` and the Home page
judge a run the same way.

    v = verdict(rows, evals, status, loss="hinge", kind="gan", config=cfg.to_dict())
    v.kind, v.headline, v.detail, v.advice      # "mode_collapse", "Mode collapse: 1 of 10 classes", ...
    v.level, v.short                            # "error", "collapse 1/10"

The rules (`health_rules`, each in `RULES` with its thresholds in words and the model kinds it
judges) run in order; the first that finds something wins. Only when none does is a run
`learning`, and only with a quality metric that shows it: an FID below the untrained
generator's. Without one (no extractor fits the data) a run with nothing wrong is
`judged_without_quality`: the box says what was checked and why there is no FID. Before any
evaluation a run is `too_early`. Advice never names a setting the run already has (`advise`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from ganlib.core.numbers import finite_or_none
from ganlib.core.registry import Registry
from ganlib.losses import LOSSES, GANLoss

# kind -> (level of the coloured box: success / info / warning / error, word for the runs table)
KINDS: dict[str, tuple[str, str]] = {
    "learning": ("success", "learning"),
    "too_early": ("info", "too early"),
    "judged_without_quality": ("info", "no FID"),
    "mode_collapse": ("error", "collapse"),
    "worse_than_untrained": ("error", "worse than untrained"),
    "not_learning": ("error", "not learning"),
    "d_winning": ("warning", "D winning"),
    "d_saturated": ("warning", "D saturated"),
    "stuck": ("warning", "stuck"),
    "exploding": ("error", "exploding"),
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
    loss: Optional[GANLoss]  # the run's loss (None: unknown, or a family without one)
    num_classes: Optional[int]
    records: list[dict[str, Any]] = field(default_factory=list)
    kind: Optional[str] = None  # the model's kind ("gan", "vae", "stylegan", ...); None: unknown
    config: dict[str, Any] = field(default_factory=dict)  # the run's config ({}: unknown)
    suggested: Optional[tuple[str, dict[str, Any]]] = None  # the preset for this data: (name, its values)

    @property
    def bce(self) -> Optional[bool]:
        return None if self.loss is None else self.loss.bce

    @property
    def ceiling(self) -> Optional[float]:
        """The untrained generator's FID, when it used the latest evaluation's extractor and N."""
        return ceiling_of(self.records, self.evals[-1]) if self.evals else None

    @property
    def extractor_note(self) -> str:
        for rec in reversed(self.records):
            if not rec.get("untrained"):
                return str(rec.get("extractor_note") or "")
        return ""


@dataclass(frozen=True)
class HealthRule:
    check: Callable[[Evidence], Optional[Verdict]]
    threshold: str  # what trips it, in words with its numbers (docs, tests)
    kinds: Optional[frozenset[str]] = None  # the model kinds it judges; None: every kind

    def judges(self, kind: Optional[str]) -> bool:
        return self.kinds is None or kind is None or kind in self.kinds


RULES: Registry[HealthRule] = Registry("health rule")


def rule(name: str, threshold: str, kinds: Optional[Sequence[str]] = None):
    """Register a rule (in the order it is tried) with its thresholds and the kinds it judges."""
    def register(fn: Callable[[Evidence], Optional[Verdict]]):
        RULES.add(name, HealthRule(fn, threshold, frozenset(kinds) if kinds is not None else None))
        return fn
    return register


def verdict(rows: Sequence[dict[str, Any]], evals: Optional[Sequence[dict[str, Any]]] = None,
            status: Optional[dict[str, Any]] = None, *, loss: Optional[str] = None,
            num_classes: Optional[int] = None, kind: Optional[str] = None,
            config: Optional[dict[str, Any]] = None,
            suggested: Optional[tuple[str, dict[str, Any]]] = None) -> Verdict:
    """The verdict on a run: `rows` are metrics.csv's per-epoch rows, `evals` evals.jsonl's
    records (the untrained generator's, the number of classes, the extractor's note), `status`
    status.json, `loss` the config's loss (BCE losses make D(G(z)) a probability), `kind` the
    model's kind (a rule judges only the kinds it names), `config` the run's config and
    `suggested` the preset for its data (so advice never names what the run already has)."""
    rows = [dict(r) for r in rows]
    records = list(evals or [])
    ev = Evidence(rows, comparable_evals(rows), dict(status or {}), LOSSES.get(loss) if loss in LOSSES else None,
                  num_classes or _classes_of(records), records, kind, dict(config or {}), suggested)
    for name in RULES:
        r = RULES.get(name)
        if not r.judges(kind):
            continue
        found = r.check(ev)
        if found is not None:
            return found
    if not ev.evals:
        return _too_early(ev)
    return _learning(ev) if fid_values(ev) else _without_quality(ev)


# ---- reading the rows ----------------------------------------------------------------------
EVAL_COLUMNS = ("fid", "classes_covered", "pixel_spread")  # a row with any of these was evaluated


def epoch_of(row: dict[str, Any]) -> str:
    e = finite_or_none(row.get("epoch"))
    return str(int(e)) if e is not None else "?"


def eval_key(row: dict[str, Any]) -> tuple[str, Optional[float]]:
    return str(row.get("extractor") or ""), finite_or_none(row.get("eval_n"))


def comparable_evals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with an evaluation, of the same extractor and N as the latest one: FIDs at other
    N or with another extractor are on other scales."""
    ev = [r for r in rows if any(finite_or_none(r.get(c)) is not None for c in EVAL_COLUMNS)]
    if not ev:
        return []
    key = eval_key(ev[-1])
    return [r for r in ev if eval_key(r) == key]


def untrained_record(records: Sequence[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The untrained generator's evaluation among evals.jsonl records (or metrics rows): the one
    marked `"untrained": true` at epoch 0, or None. The ceiling of FID and KID."""
    for r in records:
        if r.get("untrained") and finite_or_none(r.get("epoch")) in (0, None):
            return r
    return None


def ceiling_of(records: Sequence[dict[str, Any]], row: dict[str, Any]) -> Optional[float]:
    """The untrained generator's FID among `records`, when it used `row`'s extractor and N."""
    rec = untrained_record(records)
    return finite_or_none(rec.get("fid")) if rec is not None and eval_key(rec) == eval_key(row) else None


def fid_values(ev: Evidence) -> list[tuple[dict[str, Any], float]]:
    return [(r, f) for r, f in ((r, finite_or_none(r.get("fid"))) for r in ev.evals) if f is not None]


def _classes_of(records: list[dict[str, Any]]) -> Optional[int]:
    for rec in reversed(records):
        for k in ("real_hist", "gen_hist"):
            if rec.get(k):
                return len(rec[k])
    return None


def of(k: float, n: Optional[int]) -> str:
    return f"{k:.0f} of {n}" if n else f"{k:.0f}"


# ---- advice that never names what the run has ------------------------------------------------
Option = tuple[Callable[[Evidence], bool], str]  # (the run already has it, the advice)


def on_suggested_preset(ev: Evidence) -> bool:
    return bool(ev.suggested and ev.config and all(ev.config.get(k) == v for k, v in ev.suggested[1].items()))


def preset_option(text: str = "Try the {preset} preset") -> Option:
    """Advice to switch to the preset made for this data (never to a run already on it)."""
    return on_suggested_preset, text


def has(field_name: str, test: Callable[[Any], bool]) -> Callable[[Evidence], bool]:
    """The run's config sets `field_name` so that `test(value)` holds (unknown config: no)."""
    return lambda ev: field_name in ev.config and bool(test(ev.config[field_name]))


def advise(ev: Evidence, options: Sequence[Option], otherwise: str, most: int = 2) -> str:
    """The first `most` options the run has not taken yet (by its config), else `otherwise`."""
    preset = ev.suggested[0] if ev.suggested else "recommended"
    texts = [text.format(preset=preset) for taken, text in options if not taken(ev)]
    return " ".join(t.rstrip(".") + "." for t in texts[:most]) if texts else otherwise


# ---- no rule found anything ------------------------------------------------------------------
def _learning(ev: Evidence) -> Verdict:
    last, n = ev.evals[-1], ev.num_classes
    fids = [f for _, f in fid_values(ev)]
    start = f" (untrained: {ev.ceiling:.1f})" if ev.ceiling is not None else ""
    parts = [f"FID {fids[0]:.1f} → {fids[-1]:.1f} over {len(fids)} evaluations{start}" if len(fids) >= 2
             else f"FID {fids[0]:.1f} at the first evaluation{start}"]
    k = finite_or_none(last.get("classes_covered"))
    if k is not None:
        parts.append(f"{of(k, n)} classes covered")
    acc = finite_or_none(last.get("label_acc"))
    if acc is not None:
        parts.append(f"label accuracy {acc:.0%}")
    falling = len(fids) >= 2 and fids[-1] < fids[0]
    headline = "Learning: FID falling, nothing wrong." if falling else "Learning: nothing wrong so far."
    return Verdict("learning", headline, f"Epoch {epoch_of(last)}: " + ", ".join(parts) + ".",
                   "Nothing to change: let it train.")


def _without_quality(ev: Evidence) -> Verdict:
    last = ev.evals[-1]
    spread = finite_or_none(last.get("pixel_spread"))
    seen = [f"samples as varied as the data (spread {spread:.2f} in pixels)" if spread is not None else "",
            "losses moving, no blow-up"]
    note = ev.extractor_note or "no feature extractor fits this data"
    return Verdict("judged_without_quality", "Nothing wrong found, judged without a quality metric.",
                   f"Epoch {epoch_of(last)}: " + ", ".join(s for s in seen if s) + f". There is no FID: {note}",
                   "Look at the samples to judge quality; add the weights named above for FID and recall.")


def _too_early(ev: Evidence) -> Verdict:
    if not ev.rows:
        return Verdict("too_early", "Too early to judge: no epoch has finished yet.", "",
                       "Wait for the first epoch.")
    return Verdict("too_early", f"Too early to judge: {len(ev.rows)} epoch(s), no evaluation yet.",
                   "The losses show no sign of trouble; the verdict on collapse and progress needs an evaluation.",
                   "Wait for the first evaluation (eval every > 0), or evaluate a checkpoint on Evaluate.")


def is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)
