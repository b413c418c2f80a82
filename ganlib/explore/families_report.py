"""The family comparison's files and plots (`ganlib.explore.families`): its table as CSV and
JSON, Plotly figures (quality against wall-clock time; the cost of one image with its network
evaluations) as one HTML file, and the same as PNG through matplotlib (mlxtend's dependency;
skipped with a note where it is missing).

    paths = write_outputs(result, "compare_out")   # comparison.json, runs.csv, summary.csv, plots
    result = load_comparison("compare_out")        # what the Compare families view reads back
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlib.explore.families import COLUMNS, FAMILIES, LABELS, QUALITY, fmt, reading

JSON_NAME = "comparison.json"
QUALITY_WORDS = {"fid": "FID (lower is better)", "precision": "precision", "recall": "recall",
                 "classes_covered": "classes covered"}
COLOURS = {"gan": "#1f77b4", "vae": "#2ca02c", "diffusion": "#d62728"}


def summary_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """One row per family: each column as 'median (min to max)' over its seeds."""
    rows = []
    for fam, cols in result["summary"].items():
        row = {"family": LABELS[fam], "seeds": str(max(c["n"] for c in cols.values()))}
        for key, words, _ in COLUMNS:
            s = cols[key]
            row[words] = fmt(s["median"], key) if s["n"] < 2 else \
                f"{fmt(s['median'], key)} ({fmt(s['min'], key)} to {fmt(s['max'], key)})"
        rows.append(row)
    return rows


def run_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("run", "family", "seed", "model", "epochs", "wall_s", "images", *QUALITY, "ms_per_image", "nfe",
            "diversity", "extractor", "eval_n")
    return [{k: r.get(k) for k in keys} for r in result["runs"]]


def quality_figure(result: dict[str, Any]) -> go.Figure:
    """FID, precision, recall and classes covered against training wall-clock time, one line per run,
    coloured by family."""
    fig = make_subplots(rows=2, cols=2, subplot_titles=[QUALITY_WORDS[k] for k in QUALITY])
    shown = set()
    for r in result["runs"]:
        pts = r["curve"]
        for i, key in enumerate(QUALITY):
            xs = [p["elapsed_s"] for p in pts if key in p]
            fig.add_trace(go.Scatter(x=xs, y=[p[key] for p in pts if key in p], mode="lines+markers",
                                     name=LABELS[r["family"]], legendgroup=r["family"],
                                     showlegend=r["family"] not in shown and i == 0,
                                     line={"color": COLOURS[r["family"]]},
                                     hovertext=f"{r['run']} (seed {r['seed']})"),
                          row=i // 2 + 1, col=i % 2 + 1)
        shown.add(r["family"])
    fig.update_xaxes(title_text="training wall-clock (s)")
    fig.update_layout(title="Quality against wall-clock time", height=600)
    return fig


def cost_figure(result: dict[str, Any]) -> go.Figure:
    """Milliseconds to draw one image per family (median, the seeds' range as error bars), each bar
    labelled with its network evaluations per image."""
    s = result["summary"]
    fams = [f for f in FAMILIES if f in s and s[f]["ms_per_image"]["n"]]
    med = [s[f]["ms_per_image"]["median"] for f in fams]
    fig = go.Figure(go.Bar(
        x=[LABELS[f] for f in fams], y=med, marker_color=[COLOURS[f] for f in fams],
        text=[f"{fmt(s[f]['nfe']['median'], 'nfe')} NFE" for f in fams], textposition="outside",
        error_y={"type": "data", "symmetric": False,
                 "array": [s[f]["ms_per_image"]["max"] - m for f, m in zip(fams, med)],
                 "arrayminus": [m - s[f]["ms_per_image"]["min"] for f, m in zip(fams, med)]}))
    fig.update_layout(title="Sampling cost per image (NFE: network evaluations)", yaxis_title="ms per image",
                      height=400)
    return fig


def write_png(result: dict[str, Any], path: Path) -> bool:
    """Both plots in one PNG through matplotlib; False (nothing written) where it is missing."""
    try:  # matplotlib comes with mlxtend, not ganlib's own requirements: optional, loaded only here
        import matplotlib  # noqa: I001 - the backend is chosen before pyplot loads
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # after use("Agg"): no display needed
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 5, figsize=(22, 4))
    for i, key in enumerate(QUALITY):
        ax = axes[i]
        for r in result["runs"]:
            pts = [p for p in r["curve"] if key in p]
            ax.plot([p["elapsed_s"] for p in pts], [p[key] for p in pts], marker="o",
                    color=COLOURS[r["family"]], label=LABELS[r["family"]])
        ax.set_title(QUALITY_WORDS[key])
        ax.set_xlabel("training wall-clock (s)")
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes[0].legend(unique.values(), unique.keys())
    s = result["summary"]
    fams = [f for f in FAMILIES if f in s and s[f]["ms_per_image"]["n"]]
    bars = axes[4].bar([LABELS[f] for f in fams], [s[f]["ms_per_image"]["median"] for f in fams],
                       color=[COLOURS[f] for f in fams])
    for bar, f in zip(bars, fams):
        axes[4].annotate(f"{fmt(s[f]['nfe']['median'], 'nfe')} NFE", (bar.get_x() + bar.get_width() / 2,
                                                                         bar.get_height()), ha="center", va="bottom")
    axes[4].set_title("ms to draw one image")
    axes[4].tick_params(axis="x", labelrotation=15)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="") as f:
        if rows:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


def write_outputs(result: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """comparison.json (everything, with the reading), runs.csv, summary.csv, comparison.html
    (both Plotly figures) and comparison.png; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = {**result, "reading": reading(result)}
    paths = [out / JSON_NAME, out / "runs.csv", out / "summary.csv", out / "comparison.html"]
    paths[0].write_text(json.dumps(result, indent=1, default=str))
    write_csv(run_rows(result), paths[1])
    write_csv(summary_rows(result), paths[2])
    html = quality_figure(result).to_html(full_html=False, include_plotlyjs=True) + \
        cost_figure(result).to_html(full_html=False, include_plotlyjs=False)
    reading_html = "".join(f"<li>{line}</li>" for line in result["reading"])
    paths[3].write_text(f"<html><head><meta charset='utf-8'><title>GAN, VAE and diffusion</title></head><body>"
                        f"<h1>GAN, VAE and diffusion</h1><ul>{reading_html}</ul>{html}</body></html>")
    if write_png(result, out / "comparison.png"):
        paths.append(out / "comparison.png")
    return paths


def load_comparison(path: str | Path) -> dict[str, Any]:
    """A comparison written by `write_outputs` (its folder or its comparison.json)."""
    p = Path(path)
    return json.loads((p / JSON_NAME if p.is_dir() else p).read_text())
