"""Your own images at scale (issue 21): the first and second load of a folder of 20,000 colour
PNGs, the peak memory of a 1-epoch run on it with the pixels resident as uint8 against the old
float32, and the streamed run's throughput against the resident one.

    python benchmarks/data_loading.py                                  # 20,000 images of 64 px, writes JSON
    python benchmarks/data_loading.py --images 1500 --size 16          # that it runs (the smoke test)
    python benchmarks/data_loading.py --write-perf docs/PERF.md        # and its section of PERF.md

Data: Twemoji's 72x72 RGBA PNGs (the `emoji` set's files) under the 8 flips and quarter turns
and 3 channel orders, resized to `--size`, saved as RGBA PNGs in `--folder` (made once, kept):
real transparent colour icons, 24 variants of each of the 1,869 drawings, the first `--images`.

Loads, each in a fresh process with a fresh cache folder ($GANLIB_CACHE_DIR): `first` decodes
every file in worker processes into the pack; `second` maps the pack; `old` reads the files one
by one in one process as the loader did before packs (every run paid it). Wall-clock seconds.

Runs, each a fresh process, 1 epoch of `vae --variant mlp` (a small, quick model, so the data is
what differs; batch 128, no evaluation) on the folder at
`--size`, colour: `uint8` (the pixels resident as uint8, each batch converted), `float32` (the
old path, emulated: the whole set converted to float32 before training, as the loader did),
`streamed` (the pack memory-mapped, batches gathered on the prefetch thread; forced by
$GANLIB_MEMORY_LIMIT). Peak memory is the process's maximum resident set (getrusage), which
includes torch itself (`baseline`: the same process after importing torch and the library,
before the data). Throughput is the epoch's images/s, with one torch thread (TORCH_THREADS: two
threads on a loaded 2-core machine stall and swamp the difference measured).

Every figure sits beside the machine's load average (`uptime`) when it was taken: timings on a
shared machine must be taken again in a quiet window; the memory figures do not depend on load.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import command_line, median, write_perf  # noqa: E402

SECTION = "## Your own images: packing, uint8 residency, streaming (issue 21)"
DEFAULT_FOLDER = Path(tempfile.gettempdir()) / "ganlib-bench-emoji-folder"
ALTERNATIONS = 2  # resident-then-streamed epoch pairs of the throughput comparison
# One torch thread in the runs: on a shared 2-core machine, two-thread kernels stall whenever one
# thread is descheduled (benchmarks/train_speed.py says the same), which swamped every difference.
TORCH_THREADS = 1


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# ---- the folder ------------------------------------------------------------------------------
def build_folder(folder: Path, n: int, size: int) -> Path:
    """`n` RGBA PNGs of size x size made from Twemoji (kept: a marker names n and size)."""
    from PIL import Image  # the parent process builds; the children never need it here

    from ganlib.data.emoji import source

    marker = folder / ".made"
    if marker.is_file() and marker.read_text() == f"{n} {size}":
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    src = source()
    turns = [None, *Image.Transpose]  # identity, flips, rotations, transpose, transverse
    orders = [(0, 1, 2), (2, 0, 1), (1, 2, 0)]
    k = 0
    for order in orders:
        for turn in turns[:8]:
            for e in src.entries:
                if k == n:
                    marker.write_text(f"{n} {size}")
                    return folder
                with Image.open(src.path / e.name) as im:
                    im = im.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)
                im = im if turn is None else im.transpose(turn)
                r, g, b, a = im.split()
                rgb = [(r, g, b)[i] for i in order]
                Image.merge("RGBA", (*rgb, a)).save(folder / f"{k:06d}.png")
                k += 1
    raise SystemExit(f"only {k} variants can be made; ask for at most {k} images")


# ---- the children: one measurement each, in a fresh process ----------------------------------
def child(kind: str, folder: str, size: int) -> dict[str, Any]:
    import torch  # the baseline includes torch, as every run's does

    torch.set_num_threads(TORCH_THREADS)

    from ganlib.data import load_raw
    from ganlib.data.image_files import ReadOptions, image_files, read_image

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    if kind in ("first", "second"):
        n = len(load_raw("folder", folder, size, channels=3).images)
    elif kind == "old":
        read = ReadOptions(size, 3)
        n = len([a for a in (read_image(f, read) for f in image_files(Path(folder))) if a is not None])
    elif kind == "alternate":
        return alternate(folder, size)
    else:
        return run_epoch(kind, folder, size, base)
    return {"seconds": time.perf_counter() - t0, "cpu_s": cpu_seconds() - cpu0, "images": n, "load": load_average()}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the pack's workers):
    the work done, which the machine's load does not stretch as it stretches wall-clock time."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def run_epoch(kind: str, folder: str, size: int, base: int) -> dict[str, Any]:
    import ganlib.data as data_mod
    from ganlib.engine.callbacks import Callbacks
    from ganlib.engine.training import prepare

    if kind == "float32":  # the old path: every image float32 on the device before training
        loaded = data_mod.load_dataset

        def as_float(*a, **kw):
            d = loaded(*a, **kw)
            d.pixels = data_mod.to_model_range(d.pixels, d.channels, d.image_size)
            return d

        data_mod.load_dataset = as_float
    with tempfile.TemporaryDirectory() as runs:
        trainer = prepare(run_config(folder, size), runs_dir=runs)
        state = trainer.fit(Callbacks())
        trainer.close()
    row = trainer.rows[-1]
    if trainer.data.streamed != (kind == "streamed"):
        raise SystemExit(f"{kind}: the data {'streamed' if trainer.data.streamed else 'stayed resident'}")
    return {"state": state, "images_per_s": row["images_per_sec"], "epoch_s": row["epoch_time_s"],
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "baseline_rss": base,
            "load": load_average()}


def alternate(folder: str, size: int, rounds: int = ALTERNATIONS) -> dict[str, Any]:
    """Resident and streamed epochs in turn in one process, so both see the same machine load:
    the ratio of their images/s is what a shared machine can still tell."""
    from ganlib.engine.training import prepare

    with tempfile.TemporaryDirectory() as runs:
        cfg = run_config(folder, size).replace(epochs=rounds)
        resident = prepare(cfg, runs_dir=Path(runs) / "r")
        n = len(resident.data)
        os.environ["GANLIB_MEMORY_LIMIT"] = str(stream_limit(Path(folder), size, n))
        streamed = prepare(cfg, runs_dir=Path(runs) / "s")
        del os.environ["GANLIB_MEMORY_LIMIT"]
        assert streamed.data.streamed and not resident.data.streamed
        rates: dict[str, list[float]] = {"resident": [], "streamed": []}
        for _ in range(rounds):
            for name, trainer in (("resident", resident), ("streamed", streamed)):
                rates[name].append(trainer.run_epochs(1)[0]["images_per_sec"])
    return {"rates": rates, "load": load_average()}


def run_config(folder: str, size: int):
    from ganlib.store.config import TrainConfig

    return TrainConfig(dataset="folder", data_path=str(folder), image_size=size, channels=3, model="vae",
                       variant="mlp", lr_g=2e-4, lr_d=2e-4, batch_size=128, epochs=1, eval_every=0, device="cpu",
                       checkpoint_every=1)


def stream_limit(folder: Path, size: int, n: int) -> int:
    """A $GANLIB_MEMORY_LIMIT under which the models, a batch and the prefetched batches fit, and the
    whole data does not (a fifth of it is left out)."""
    from ganlib.engine.memory import HEADROOM, estimate

    need = estimate(run_config(str(folder), size), n, 1, n * 3 * size * size)
    return int((need.models + need.activations + need.data * 4 // 5) / HEADROOM)


def in_child(kind: str, folder: Path, size: int, cache: Path, env: Optional[dict] = None) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--folder", str(folder), "--size", str(size)],
                         env={**os.environ, "GANLIB_CACHE_DIR": str(cache), **(env or {})}, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- the parent ----------------------------------------------------------------------------------
def measure(folder: Path, size: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = Path(cache_dir)
        res["first"] = in_child("first", folder, size, cache)
        res["second"] = in_child("second", folder, size, cache)
        res["old"] = in_child("old", folder, size, cache)
        for kind in ("uint8", "float32"):
            res[kind] = in_child(kind, folder, size, cache)
        limit = stream_limit(folder, size, res["first"]["images"])
        res["streamed"] = in_child("streamed", folder, size, cache, {"GANLIB_MEMORY_LIMIT": str(limit)})
        res["alternate"] = in_child("alternate", folder, size, cache)  # throughput: both under the same load
    res["pixel_bytes"] = res["first"]["images"] * 3 * size * size
    return res


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def load_row(label: str, r: dict[str, Any], digits: int) -> str:
    return f"| {label} | {r['seconds']:.{digits}f} | {r['cpu_s']:.{digits}f} | {r['images']:,} | {r['load']} |"


def run_row(label: str, r: dict[str, Any]) -> str:
    return (f"| {label} | {mib(r['peak_rss'])} | {mib(r['peak_rss'] - r['baseline_rss'])} | "
            f"{r['images_per_s']:,.0f} | {r['load']} |")


def section(res: dict[str, Any], n: int, size: int, command: str) -> str:
    f, s, o = res["first"], res["second"], res["old"]
    u, fl, st, alt = res["uint8"], res["float32"], res["streamed"], res["alternate"]
    rate = {k: median(v) for k, v in alt["rates"].items()}
    px = res["pixel_bytes"]
    return f"""Made by `{command}` on {res['machine']}. {n:,} RGBA PNGs of {size}x{size} (Twemoji drawings,
flipped, turned and with their channels reordered; the folder is made once). Each figure comes from
a fresh process; the load average (1 min) when it was taken is beside it: **timings on this shared
2-core machine must be taken again in a quiet window**; the memory figures do not depend on load.

| load of the folder | wall-clock s | CPU s (all processes) | images | load avg |
| --- | ---: | ---: | ---: | ---: |
{load_row("first (decoded in worker processes into the pack)", f, 1)}
{load_row("second (the pack mapped, checksums verified)", s, 2)}
{load_row("before packs: every run read the files one by one", o, 1)}

| 1 epoch of vae (MLP), batch 128 | peak memory (RSS) | over the baseline | images/s | load avg |
| --- | ---: | ---: | ---: | ---: |
{run_row("uint8 resident (now)", u)}
{run_row("float32 resident (the old path, emulated)", fl)}
{run_row("streamed from the pack ($GANLIB_MEMORY_LIMIT forces it)", st)}

Throughput, resident against streamed, epochs taken in turn in one process ({ALTERNATIONS} of each;
median images/s; load {alt['load']} at the end): resident {rate['resident']:,.0f}, streamed
{rate['streamed']:,.0f}, a ratio of {rate['streamed'] / rate['resident']:.2f} (each epoch:
resident {', '.join(f'{r:,.0f}' for r in alt['rates']['resident'])}; streamed
{', '.join(f'{r:,.0f}' for r in alt['rates']['streamed'])}). One torch thread
({TORCH_THREADS}); streaming does the same work plus a gather on another thread.

The pixels are {mib(px)} as uint8 and {mib(4 * px)} as float32. Peak RSS counts the pages of the
memory-mapped pack that the process touched (file pages the kernel may drop) as well as its own
memory; the baseline is the process after importing torch and ganlib.

What the figures say: uint8 residency took {mib(fl['peak_rss'] - u['peak_rss'])} less peak memory
than the float32 path (which, converting, held the float pixels twice: its chunks, then their
concatenation); the streamed run held {mib(st['peak_rss'] - st['baseline_rss'])} over its baseline,
against {mib(u['peak_rss'] - u['baseline_rss'])} resident. The first load does one decode of every
file, spread over the cores ({f['cpu_s']:.1f} CPU s in all processes, against {o['cpu_s']:.1f} for one
process reading them in turn: the rest is starting the workers and carrying the pixels back); every
later load is the second row, where before every run paid the third. The images/s of the epochs
are wall-clock figures on a shared machine (the load column): compare the
streamed and resident rows only when taken in a quiet window."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=20_000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--write-perf", type=Path, help="replace this section of docs/PERF.md")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child, str(a.folder), a.size)))
        return 0
    folder = build_folder(a.folder, a.images, a.size)
    res = measure(folder, a.size)
    res.update(images=a.images, size=a.size, command=command_line(__file__, argv),
               machine=f"{os.cpu_count()} CPU cores, no GPU" if not _cuda() else "a GPU machine")
    text = json.dumps(res, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text)
    if a.write_perf:
        write_perf(a.write_perf, SECTION, section(res, a.images, a.size, res["command"]))
    return 0


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    sys.exit(main())
