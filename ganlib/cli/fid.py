"""`python -m ganlib fid PATH PATH`: pytorch-fid's command line, on any registered extractor.
Each PATH is a folder of images or an .npz of statistics; `--save-stats` writes one."""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Optional

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command, eprint, one_line
from ganlib.cli.flags import INCEPTION_HINT, check_device, extractor
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.feature_stats import RunningStats
from ganlib.metrics.folder_stats import folder_stats, load_stats, path_kind
from ganlib.metrics.frechet import frechet_distance, sample_size_warning

try:
    from tqdm import tqdm
except ImportError:  # tqdm is in requirements.txt; without it there is just no bar
    tqdm = None


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fid", allow_abbrev=False,
        help="FID between two image folders or statistics files (pytorch-fid's command line)",
        description="Fréchet distance between two sets of images, like pytorch-fid's "
                    "`python -m pytorch_fid PATH1 PATH2`. Each PATH is a folder of images (subfolders "
                    "included, hidden files left out; any size and mode; files PIL cannot read are skipped "
                    "and counted on stderr) or an .npz holding `mu` and `sigma` (pytorch-fid's statistics "
                    "format, or a file written by --save-stats). Prints `FID: <value>` on stdout. "
                    "With --save-stats, the first PATH is a folder and the second the .npz to write "
                    "(`mu`, `sigma` and `n`).",
        epilog="The default --features inception is pytorch-fid's network (TensorFlow's 2015 FID Inception, "
               "2048-d pool3 features). It needs pytorch-fid's weights file pt_inception-2015-12-05-6726825d.pth "
               "(about 90 MB): pass --inception-weights FILE, set $GANLIB_INCEPTION_WEIGHTS, put it in torch "
               "hub's cache, or let it download there. " + INCEPTION_HINT + " FID depends on the number of "
               "images N (it is biased upward at small N, and below N = feature dim the covariance is "
               "singular): compare values only at equal N and extractor.")
    p.add_argument("paths", nargs=2, metavar="PATH",
                   help="a folder of images, or an .npz with mu and sigma (with --save-stats: folder, then OUT.npz)")
    p.add_argument("--features", "--extractor", default="inception", metavar="NAME",
                   help="feature extractor from the extractor registry: inception (default, as pytorch-fid) "
                        "or digits")
    p.add_argument("--save-stats", "--save_stats", action="store_true",
                   help="write the first PATH's statistics to the second PATH (.npz) instead of computing FID")
    p.add_argument("--batch-size", "--batch_size", type=int, default=50, metavar="B",
                   help="images read and passed to the extractor at a time; the extractor runs them in its "
                        "own forward batches (default: 50, as pytorch-fid)")
    p.add_argument("--device", default="auto", metavar="DEV",
                   help="auto, cpu, cuda or cuda:N (default: auto, a GPU when there is one)")
    p.add_argument("--inception-weights", "--inception_weights", default="", metavar="FILE",
                   help="path to pt_inception-2015-12-05-6726825d.pth (default: $GANLIB_INCEPTION_WEIGHTS, "
                        "then torch hub's cache, then a download)")
    p.add_argument("--dims", type=int, metavar="N",
                   help="pytorch-fid's --dims: only the extractor's own feature size is available "
                        "(2048 for inception, 128 for digits); any other value is an error")
    p.add_argument("--num-workers", "--num_workers", type=int, metavar="N",
                   help="threads decoding images (default: min(8, CPU count), as pytorch-fid's workers)")
    return p


class _Bar:
    """A progress bar on stderr while a folder is read, when stderr is a terminal."""

    def __init__(self, desc: str):
        self.desc, self.bar = desc, None

    def __call__(self, done: int, total: int) -> None:
        if tqdm is None or not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit="img", desc=self.desc, file=sys.stderr, leave=False,
                            dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _folder(path: Path, ext: FeatureExtractor, args: argparse.Namespace, workers: int) -> RunningStats:
    bar = _Bar(path.name)
    try:
        stats, note = folder_stats(path, ext, batch_size=args.batch_size, workers=workers, progress=bar)
    finally:
        bar.close()
    if note:
        eprint(f"{path}: {note}")
    return stats


def _check_dims(dims: Optional[int], feature_dim: int, name: str) -> None:
    if dims is not None and dims != feature_dim:
        raise CLIError(f"--dims {dims}: --features {name} gives {feature_dim}-d features only "
                       f"(pytorch-fid's other Inception blocks are not available)")


def _warn_sample_size(path: Path, n: int, dim: int) -> None:
    msg = sample_size_warning(n, dim)
    if msg:
        eprint(f"warning: {path}: {msg}")


def _extractor(args: argparse.Namespace) -> FeatureExtractor:
    ext = extractor(args.features, check_device(args.device), args.inception_weights)
    _check_dims(args.dims, ext.feature_dim, args.features)
    return ext


def save_stats(args: argparse.Namespace, src: Path, out: Path, workers: int) -> int:
    if not src.is_dir():
        path_kind(src)  # a missing path says so
        raise CLIError(f"--save-stats reads a folder of images (then writes the .npz named second); "
                       f"{src} is not a folder")
    if out.suffix.lower() != ".npz":
        raise CLIError(f"--save-stats writes an .npz: the second PATH must end in .npz, got {str(out)!r}")
    if out.exists():
        raise CLIError(f"{out} already exists; delete it or choose another name (pytorch-fid refuses too)")
    ext = _extractor(args)
    stats = _folder(src, ext, args, workers)
    _warn_sample_size(src, stats.n, ext.feature_dim)
    stats.to_npz(out)
    eprint(f"statistics of {stats.n} images from {src} ({args.features}, {ext.feature_dim}-d features)")
    print(out)
    return OK


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.num_workers is not None and args.num_workers < 0:
        raise CLIError(f"--num-workers must be 0 or more, got {args.num_workers}")
    workers = min(8, os.cpu_count() or 1) if args.num_workers is None else args.num_workers
    paths = [Path(p).expanduser() for p in args.paths]
    if args.inception_weights and args.features != "inception":
        eprint(f"note: --inception-weights is ignored with --features {args.features}")
    if args.save_stats:
        return save_stats(args, paths[0], paths[1], workers)

    kinds = [path_kind(p) for p in paths]
    loaded = {i: load_stats(p) for i, (p, k) in enumerate(zip(paths, kinds)) if k == "npz"}
    dims = {i: s.dim for i, s in loaded.items()}
    if len(dims) == 2 and dims[0] != dims[1]:
        raise CLIError(f"{paths[0]} holds {dims[0]}-d statistics but {paths[1]} holds {dims[1]}-d: "
                       f"they were made with different feature extractors")
    stats = dict(loaded)
    if len(loaded) < 2:  # a folder is involved: features are needed
        ext = _extractor(args)
        for i, d in dims.items():
            if d != ext.feature_dim:
                raise CLIError(f"{paths[i]} holds {d}-d statistics but --features {args.features} gives "
                               f"{ext.feature_dim}-d features: use the extractor the statistics were made with")
        for i in range(2):
            if i in stats:
                continue
            if i == 1 and kinds[0] == "folder" and paths[1].resolve() == paths[0].resolve():
                stats[1] = stats[0]  # the same folder twice: read it once
                continue
            stats[i] = _folder(paths[i], ext, args, workers)
    elif args.dims is not None and args.dims != dims[0]:
        raise CLIError(f"--dims {args.dims}: the statistics files hold {dims[0]}-d features")
    warned = set()
    for i in range(2):  # a pytorch-fid file records no N (n = 0): nothing to warn about
        if stats[i].n and paths[i].resolve() not in warned:
            warned.add(paths[i].resolve())
            _warn_sample_size(paths[i], stats[i].n, stats[i].dim)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fid = frechet_distance(stats[0].mean, stats[0].cov, stats[1].mean, stats[1].cov)
    for w in caught:
        eprint(f"warning: {one_line(str(w.message))}")
    print(f"FID: {fid}")
    return OK


COMMANDS.add("fid", Command(add_parser, run))
