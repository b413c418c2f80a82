"""The GPU suite's summary: each claim of docs/PERF.md against its target, read from the steps'
JSON files, as `summary.json` and as the markdown tables of `gpu_suite.md` (for PERF.md's
"GPU suite" section). Rewritten after every step, so a suite killed at its limit still
reports what it measured."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Optional

from ganlib.core.atomic import atomic_write_text

TARGETS = {"train_speed": 20.0, "conv_speed_b32": 5.0, "fid_speed": 3.0}


def _load(work: Path, name: str) -> Optional[dict]:
    p = work / f"{name}.json"
    try:
        return json.loads(p.read_text()) if p.is_file() else None
    except json.JSONDecodeError:  # a step killed while writing it
        return None


def _verdict(ok: Optional[bool]) -> str:
    return {True: "pass", False: "**FAIL**", None: "–"}[ok]


def _missing(records: dict[str, dict], step: str) -> str:
    r = records.get(step)
    if r is None:
        return "not measured (step not run)"
    return f"not measured (step {r['result']}" + (f": {r['message']}" if r.get("message") else "") + ")"


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _train_speed(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    r = j["ratio_images_per_s_engine_over_seed"]
    t = TARGETS["train_speed"]
    return (f"engine vs seed 000's loop (mlp_gan, batch {j['batch_size']}, {j['images']:,} images)",
            f">= {t:g}x images/s",
            f"{r:.1f}x ({j['engine']['median_images_per_s']:,.0f} vs {j['seed']['median_images_per_s']:,.0f} "
            "images/s)", r >= t, r)


def _conv_speed(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    r, b, t = j["ratio_images_per_s_engine_over_seed"], j["batch_size"], TARGETS["conv_speed_b32"]
    return (f"conv GAN (dcgan seed001) vs seed 001's loop at batch {b}", f">= {t:g}x images/s" if b == 32 else "",
            f"{r:.1f}x, best config {j['engine_config']} ({j['engine']['median_images_per_s']:,.0f} vs "
            f"{j['seed']['median_images_per_s']:,.0f} images/s)", (r >= t) if b == 32 else None, r)


def _fid_speed(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    s, t = j["ganlib"]["median_s"], TARGETS["fid_speed"]
    return (f"FID@{j['ganlib']['fid_n']:,} with its features (generate, Inception, statistics, distance)",
            f"<= {t:g} s", f"{s:.2f} s (seed 000's calculate_fid of 128 + 128 images: {j['seed']['median_s']:.2f} s)",
            s <= t, s)


def _sqrtm(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    rows = j["sqrtm"]["rows"]
    best = max(rows[1:], key=lambda x: x["speedup_vs_scipy"])
    return (f"matrix square root, {j['sqrtm']['dim']}-d: {best['method']} vs scipy.linalg.sqrtm", "",
            f"{best['median_s']:.3f} s vs {rows[0]['median_s']:.3f} s ({best['speedup_vs_scipy']:.1f}x; FID rel. "
            f"diff {best['rel_diff_vs_scipy']:.1e})", None, best["speedup_vs_scipy"])


def _cuda_checks(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    c = j["counts"]
    return ("every model x speed option trains, checkpoints, reloads, resumes; live metrics",
            "all ok, or refused with a message", ", ".join(f"{v} {k}" for k, v in c.items()),
            c["failed"] == 0 and c["fallback"] == 0 and c["not run"] == 0, c)


def _cuda_graphs(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    v, p, e = j["verdict"], j["profile"]["graphs"], j["profile"]["eager"]
    return ("CUDA graphs replay the step (BatchNorm buffers, optimiser, EMA)", "replays, and matches eager",
            f"replays {v['replays']}, right {v['right']}: {p['graph_launches_per_step']:.0f} graph launches and "
            f"{p['kernel_launches_per_step']:.0f} kernel launches a step (eager {e['kernel_launches_per_step']:.0f}), "
            f"{p['captures']} captures, {j['cudagraph_skips']} skips", v["replays"], v)


def _quality(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    def one(k: str, x: dict) -> str:
        return f"{k} FID {x['fid']:.1f}" + (f", label acc {x['label_acc']:.2f}" if _num(x.get("label_acc")) else "")

    per = "; ".join(one(k, x) for k, x in j["results"].items() if _num(x.get("fid")))
    return (f"model quality after {j['budget_s']:g} s of training each", "the quality targets",
            f"{j['targets_met']}/{j['targets_judged']} targets met ({per})",
            j["all_targets_met"] if j["targets_judged"] else None, j["targets_met"])


def _time_to_digits(j: dict) -> tuple[str, str, str, Optional[bool], Any]:
    d, s4 = j["summary"]["default"], j["summary"].get("seed004")
    text = f"default {d['met']}/{d['runs']} at the bar, median " + (
        f"{d['median_s']:.1f} s" if _num(d["median_s"]) else f"> {d['cap_s']:g} s")
    ratio = (s4 or {}).get("ratio_to_default")
    if s4:
        text += f"; seed 004's loop {s4['met']}/{s4['runs']}, " + (
            f"{ratio:.1f}x the default's time" if _num(ratio) else f"not at the bar within {s4['cap_s']:g} s")
    ok = (ratio >= 5.0) if isinstance(ratio, (int, float)) else None
    return ("time from a cold process to recognisable digits", "seed 004's loop >= 5x the default's", text, ok, ratio)


CLAIMS = [("train_speed", _train_speed), ("conv_speed_b32", _conv_speed), ("fid_speed", _fid_speed),
          ("fid_speed", _sqrtm), ("cuda_checks", _cuda_checks), ("cuda_graphs", _cuda_graphs),
          ("conv_speed_b128", _conv_speed), ("quality", _quality), ("time_to_digits", _time_to_digits)]


def claims(work: Path, records: dict[str, dict], rehearsal: bool = False) -> list[dict[str, Any]]:
    """One row per claim: what, its target, what was measured, and the verdict (none for a
    rehearsal, whose tiny CPU sizes say nothing about a target). A step that wrote no JSON (or
    a JSON this cannot read) gives a row that says so."""
    rows: list[dict[str, Any]] = []
    for step, read in CLAIMS:
        j = _load(work, step)
        row: dict[str, Any] = {"step": step, "claim": read.__name__.strip("_").replace("_", " "), "target": "",
                               "value": None, "measured": _missing(records, step), "verdict": "not measured"}
        if j is not None:
            try:
                claim, target, measured, ok, value = read(j)
                row.update(claim=claim, target=target, measured=measured, value=value,
                           verdict="rehearsal" if rehearsal else _verdict(ok))
            except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as e:
                if read is _sqrtm and "sqrtm" not in j:
                    continue  # --skip-sqrtm
                row["measured"] = f"unreadable {step}.json: {type(e).__name__}: {e}"
        rows.append(row)
    return rows


def _cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def conv_table(work: Path) -> list[str]:
    lines = []
    for step in ("conv_speed_b32", "conv_speed_b128"):
        j = _load(work, step)
        if not j:
            continue
        lines += [f"Batch {j['batch_size']}: seed 001's loop {j['seed']['median_images_per_s']:,.0f} images/s.", "",
                  "| engine config | setup s | images/s | vs seed 001 |", "|---|---:|---:|---:|"]
        for name, v in j["variants"].items():
            if "median_images_per_s" in v:
                lines.append(f"| {name} | {v['setup_s']:.1f} | {v['median_images_per_s']:,.0f} | "
                             f"{v['ratio_over_seed']:.2f}x |")
            else:
                lines.append(f"| {name} | – | failed: {_cell(v.get('error', 'no epoch timed'))[:200]} | – |")
        lines.append("")
    return lines


def markdown(work: Path, records: list[dict], rows: list[dict], env: dict, mode: str, total_s: float,
             load: str) -> str:
    where = env.get("gpu") or f"CPU ({env.get('cpu_count')} cores, load average {load})"
    lines = [f"{'Rehearsal on the CPU (tiny sizes: the numbers mean nothing)' if mode == 'rehearse' else 'GPU run'}: "
             f"{env.get('date_utc', '?')}, {where}, torch {env.get('torch', '?')}, python {env.get('python', '?')}"
             + (f", driver {env['nvidia_smi']}" if env.get("nvidia_smi") else "") + f"; suite {total_s:.0f} s.", "",
             "| claim | target | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {_cell(r['claim'])} | {_cell(r['target'])} | {_cell(r['measured'])} | {r['verdict']} |" for r in rows]
    lines += ["", "| step | result | seconds | limit s | note |", "|---|---|---:|---:|---|"]
    lines += [f"| {r['step']} | {r['result']} | {r['seconds']} | {r.get('limit_s', '–')} | "
              f"{_cell(r.get('message', ''))[:200]} |" for r in records]
    j = _load(work, "cuda_checks")
    if j:
        lines += ["", f"CUDA checks (batch {j['batch_size']} x {j['steps']} steps x 2 epochs, device {j['device']}, "
                      f"compile backend {j['compile_backend']}):", "", j["matrix"]]
        bad = [c for c in j["checks"] if c["result"] in ("failed", "fallback", "refused")]
        lines += [""] + [f"- {c['model']} {c['option']}: {c['result']}: {_cell(c.get('message', ''))[:300]}"
                         for c in bad]
    lines += [""] + conv_table(work)
    return "\n".join(lines).rstrip() + "\n"


def write_report(out: Path, work: Path, records: list[dict], mode: str, total_s: float,
                 load_start: tuple[float, ...] = ()) -> dict:
    """summary.json and gpu_suite.md under `out`, from the steps so far."""
    env = _load(work, "environment") or {}
    by_step = {r["step"]: r for r in records}
    rows = claims(work, by_step, rehearsal=mode == "rehearse")
    load_now = os.getloadavg()
    load = f"{load_start[0]:.1f} at the start, {load_now[0]:.1f} at the end" if load_start else f"{load_now[0]:.1f}"
    summary = {"mode": mode, "total_s": round(total_s, 1), "environment": env, "load_average_1min": load,
               "steps": records, "claims": rows, "cuda_checks": _load(work, "cuda_checks"),
               "cuda_graphs": _load(work, "cuda_graphs")}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=str) + "\n")
    atomic_write_text(out / "gpu_suite.md", markdown(work, records, rows, env, mode, total_s, load))
    return summary


SECTION = "## GPU suite"
SECTION_TEXT = Path(__file__).with_name("gpu_suite_section.md")  # what the suite measures, and the device call


def perf_body(out: Path) -> str:
    """The "GPU suite" section of docs/PERF.md from a finished (or cut-off) suite's folder."""
    summary = json.loads((out / "summary.json").read_text())
    results = (out / "gpu_suite.md").read_text().strip()
    intro = SECTION_TEXT.read_text().strip()
    if summary["mode"] == "rehearse":
        status = ("**Not run on a GPU yet**: no GPU was lent to the task that prepared the suite (the device "
                  "tool's `can_start_another: false`), so every GPU target above is still unmeasured and the "
                  "issue is blocked on the one device call above. The CPU rehearsal "
                  "(`bash benchmarks/gpu_suite.sh --rehearse`, the same steps with tiny sizes and `--device cpu`) "
                  "printed:")
        return f"{intro}\n\n{status}\n\n{results}\n"
    return f"{intro}\n\n### Results\n\n{results}\n"
