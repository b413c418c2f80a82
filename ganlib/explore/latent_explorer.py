"""Latent explorer: edit one latent vector and see what the generator makes of it.

    from ganlib.explore import latent_explorer as lx
    z = lx.seed_latent(7, 100)                              # numpy (latent_dim,)
    dirs = lx.run_directions(run, label=3)                  # GANSpace PCA directions in z-space
    z2 = lx.move(z, dirs, [2.0, -1.0])                      # along the first two directions
    img = lx.render(run, [lx.truncate(z2, 0.7)], label=3)   # PIL image
    strips = lx.direction_strips(run, z2, dirs, span=3)     # one preview strip per direction
    grid = lx.render_corner_grid(run, corners, 5, 5, mode="slerp")
    curve = lx.truncation_curve(run, progress=print)        # FID / precision / recall vs psi, cached

Principal directions follow GANSpace (Härkönen et al. 2020, harskish/ganspace) for generators
without a style network: sample many z, record an early hidden layer's activations with a
forward hook, take their principal components, then regress z on the PCA coordinates (least
squares) to find the direction in z that produces each component. Directions come back as
orthonormal unit vectors in z-space (Gram-Schmidt in variance order), sorted by the variance
their component explains.

Every function takes and returns numpy arrays and PIL images, so pages need not import torch.
Latents are drawn with their own `torch.Generator` (never the global RNG: a job may be
training in the same process). Favourites (`favourites.json`) and truncation curves
(`explorer/truncation-*.json`) live in the run folder and are written atomically.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from ganlib.core.atomic import atomic_write_text
from ganlib.core.images import grid_image
from ganlib.store.run_folder import Run, find_run
from ganlib.data import cached_run_data, data_fields
from ganlib.metrics.pipeline import evaluate_generator, resolve_extractor
from ganlib.store.checkpoints import find_checkpoint
from ganlib.explore.sampling import get_generator, lerp, random_seed, slerp  # noqa: F401 - random_seed: the pages' API
from ganlib.models.handle import GeneratorHandle, seeded_latents

PCA_SAMPLES = 2000  # latents behind the principal directions
COMPONENTS = 10  # directions found by default
CURVE_N = 1000  # generated (and real) images per point of the truncation curve
TRUNCATION_METHODS = {
    "scale": "Scale towards the mean (z·ψ)",
    "resample": "Resample |zᵢ| above a threshold",
}
# Points of the measured curves: psi for "scale", the threshold for "resample" (inf = off).
CURVE_VALUES = {"scale": (0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0),
                "resample": (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)}
GRID_MODES = {"slerp": "Spherical (slerp down the edges, then along rows)", "linear": "Bilinear"}
RESAMPLE_SEED = 0  # the draws that replace truncated values, so a view is repeatable

Progress = Callable[[float, str], None]
_BLOCK_TYPES = (nn.Linear, nn.ConvTranspose2d, nn.Conv2d)
_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.PReLU, nn.Softplus)
_SKIP = (nn.Embedding, nn.Dropout, nn.Identity, nn.Flatten, nn.Unflatten)


def _run(run: str | Path | Run) -> Run:
    return run if isinstance(run, Run) else find_run(run)


def _as_z(z: Any) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(z, dtype=np.float32))
    return t.unsqueeze(0) if t.dim() == 1 else t


# ---- latents ----------------------------------------------------------------------------
def seed_latent(seed: int, dim: int) -> np.ndarray:
    """The latent the rest of the workbench draws for `seed` (as Generate and Latent walk)."""
    return seeded_latents(int(seed), 1, dim)[0].numpy()


def seed_latents(seeds: Sequence[int], dim: int) -> np.ndarray:
    return np.stack([seed_latent(s, dim) for s in seeds]) if len(seeds) else np.zeros((0, dim), np.float32)


def move(z: np.ndarray, directions: "Directions | np.ndarray", coeffs: Sequence[float]) -> np.ndarray:
    """`z + sum_i coeffs[i] * direction_i`; coefficients are in units of z's standard deviation."""
    vecs = directions.vectors if isinstance(directions, Directions) else np.asarray(directions)
    c = np.asarray(list(coeffs), dtype=np.float64)
    if len(c) > len(vecs):
        raise ValueError(f"{len(c)} coefficients for {len(vecs)} directions")
    return (np.asarray(z, np.float64) + c @ vecs[:len(c)].astype(np.float64)).astype(np.float32)


# ---- truncation -------------------------------------------------------------------------
def truncate(z: np.ndarray, psi: float, mean: Optional[np.ndarray] = None) -> np.ndarray:
    """Scale towards the mean of z's distribution (0 for N(0, I)): `mean + psi * (z - mean)`.
    psi = 1 is the identity; smaller psi trades variety for typical, cleaner samples."""
    z = np.asarray(z, np.float32)
    if psi == 1.0:
        return z.copy()
    m = np.zeros_like(z) if mean is None else np.asarray(mean, np.float32)
    return (m + np.float32(psi) * (z - m)).astype(np.float32)


def truncate_resample_t(z: torch.Tensor, threshold: float, generator: torch.Generator,
                        max_rounds: int = 100) -> torch.Tensor:
    """BigGAN's truncation trick: every value with |z_i| > threshold is drawn again from
    N(0, 1) until it falls inside (a threshold of inf is the identity)."""
    if not math.isfinite(threshold):
        return z.clone()
    if threshold <= 0:
        raise ValueError(f"the truncation threshold must be positive, got {threshold}")
    z = z.clone()
    for _ in range(max_rounds):
        bad = z.abs() > threshold
        if not bad.any():
            return z
        z[bad] = torch.randn(int(bad.sum()), generator=generator).to(z.dtype)
    return z.clamp(-threshold, threshold)  # a tiny threshold: the last few are clipped


def truncate_resample(z: np.ndarray, threshold: float, seed: int = RESAMPLE_SEED) -> np.ndarray:
    return truncate_resample_t(_as_z(z), threshold, torch.Generator().manual_seed(seed)).numpy().reshape(np.shape(z))


def apply_truncation(z: np.ndarray, method: str = "scale", value: float = 1.0, seed: int = RESAMPLE_SEED) -> np.ndarray:
    """`method` "scale" (value = psi in [0, 1]) or "resample" (value = threshold, inf = off)."""
    if method == "scale":
        return truncate(z, value)
    if method == "resample":
        return truncate_resample(z, value, seed)
    raise ValueError(f"truncation method must be one of {', '.join(TRUNCATION_METHODS)}, got {method!r}")


class Truncated(nn.Module):
    """A generator whose input is truncated first: `Truncated(G, "scale", 0.7)(z, y)`.
    What `evaluate` samples through to measure a truncation curve."""

    def __init__(self, G: nn.Module, method: str, value: float, seed: int = RESAMPLE_SEED):
        super().__init__()
        if method not in TRUNCATION_METHODS:
            raise ValueError(f"truncation method must be one of {', '.join(TRUNCATION_METHODS)}, got {method!r}")
        self.G, self.method, self.value, self.seed = G, method, float(value), seed
        self.train(G.training)  # a fresh module is in training mode; G (cached) must stay as it is

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.method == "scale":
            z = z * self.value
        else:
            z = truncate_resample_t(z, self.value, torch.Generator(device=z.device).manual_seed(self.seed))
        return self.G(z, labels)


# ---- rendering --------------------------------------------------------------------------
@torch.no_grad()
def decode(h: GeneratorHandle, z: Any, *, label: Optional[int | Sequence[int]] = None,
           embedding: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Images in [-1, 1] for latents `z` (m, d). Conditional generators take one label for all
    (default 0), one per latent, or label embeddings to pass to `forward_embedded` (a class morph)."""
    zt = _as_z(z).to(h.device)
    if embedding is not None:
        return h.G.forward_embedded(zt, embedding.to(h.device))
    y = h.labels(0 if label is None else label, len(zt)) if h.conditional else None
    return h.decode(zt, y)


def render(run: str | Path | Run, z: Any, *, label: Optional[int | Sequence[int]] = None,
           checkpoint: str | Path | None = None, nrow: Optional[int] = None, scale: int = 3) -> Image.Image:
    """Latents (m, d) as one grid image (`nrow` per row, default all in one row)."""
    h = get_generator(_run(run), checkpoint)
    x = decode(h, z, label=label)
    return grid_image(x, nrow=nrow or len(x), scale=scale)


def render_each(run: str | Path | Run, z: Any, *, label: Optional[int | Sequence[int]] = None,
                checkpoint: str | Path | None = None, scale: int = 3) -> list[Image.Image]:
    """One image per latent (for pickers with a caption under each)."""
    h = get_generator(_run(run), checkpoint)
    x = decode(h, z, label=label)
    return [grid_image(x[i:i + 1], nrow=1, padding=0, scale=scale) for i in range(len(x))]


# ---- layers and activations -------------------------------------------------------------
@dataclass
class Layer:
    name: str  # as in G.named_modules()
    kind: str  # the module's class name
    features: int  # activations per sample (C*H*W for a feature map)

    def label(self) -> str:
        return f"{self.name} ({self.kind}, {self.features:,} values)"


@torch.no_grad()
def layers(h: GeneratorHandle) -> list[Layer]:
    """G's leaf modules in the order a forward pass runs them (only those that do run: a VAE's
    encoder does not when it generates), skipping embeddings, dropout and reshapes."""
    order: list[Layer] = []
    handles = []
    me = threading.get_ident()  # G is shared by every dashboard session: ignore other threads' passes

    def hook(name: str):
        def fn(module, inputs, output):
            if threading.get_ident() != me:
                return
            if isinstance(output, torch.Tensor) and not any(l.name == name for l in order):
                order.append(Layer(name, type(module).__name__, int(output[0].numel())))
        return fn

    for name, m in h.G.named_modules():
        if name and not list(m.children()) and not isinstance(m, _SKIP):
            handles.append(m.register_forward_hook(hook(name)))
    try:
        decode(h, torch.zeros(2, h.latent_dim), label=0)
    finally:
        for hook_handle in handles:
            hook_handle.remove()
    return order


def default_layer(found: Sequence[Layer]) -> str:
    """The first hidden block's output: the activation after the first Linear/ConvTranspose2d
    (before the next such layer), or that layer itself when its activation is a function."""
    blocks = [i for i, l in enumerate(found) if l.kind in ("Linear", "ConvTranspose2d", "Conv2d")]
    if not blocks:
        if not found:
            raise ValueError("the generator ran no layer that a hook can record")
        return found[0].name
    first, nxt = blocks[0], (blocks[1] if len(blocks) > 1 else len(found))
    acts = [l for l in found[first + 1:nxt] if l.kind in {c.__name__ for c in _ACTIVATIONS}]
    return acts[-1].name if acts else found[first].name


class _Enough(Exception):
    """Raised by the hook once the layer is recorded: the rest of G need not run."""


@torch.no_grad()
def activations(h: GeneratorHandle, z: torch.Tensor, layer: str, *, label: Optional[int] = None,
                chunk: int = 500) -> torch.Tensor:
    """The named layer's outputs for latents `z`, flattened to (n, features), float32 on the CPU."""
    modules = dict(h.G.named_modules())
    if layer not in modules:
        raise ValueError(f"the generator has no layer {layer!r}")
    out: list[torch.Tensor] = []
    me = threading.get_ident()  # G is shared by every dashboard session: ignore other threads' passes

    def fn(module, inputs, output):
        if threading.get_ident() != me:
            return
        out.append(output.detach().flatten(1).float().cpu())
        raise _Enough

    hook_handle = modules[layer].register_forward_hook(fn)
    try:
        for part in z.split(chunk):
            try:
                decode(h, part, label=label)
            except _Enough:
                pass
    finally:
        hook_handle.remove()
    return torch.cat(out)


# ---- principal directions (GANSpace) ----------------------------------------------------
@dataclass
class Directions:
    vectors: np.ndarray  # float32 (k, latent_dim): orthonormal rows, sorted by explained variance
    variance: np.ndarray  # float64 (k,): activation variance of each principal component
    variance_ratio: np.ndarray  # float64 (k,): its share of the layer's total variance
    layer: str
    n: int  # latents sampled
    label: Optional[int] = None  # the class held fixed (conditional generators)

    def __len__(self) -> int:
        return len(self.vectors)


def pca(acts: torch.Tensor, k: int, niter: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Top-k principal components of the rows of `acts`: (coordinates (n, k), variances (k,),
    total variance). An exact eigendecomposition of the covariance for narrow layers,
    `torch.pca_lowrank` (randomised SVD) for wide ones such as a conv layer's feature map."""
    n, f = acts.shape
    if f <= 1024:
        xc = acts.double() - acts.double().mean(0, keepdim=True)
        evals, evecs = torch.linalg.eigh(xc.T @ xc / (n - 1))  # ascending
        evals, evecs = evals.flip(0)[:k].clamp_min(0), evecs.flip(1)[:, :k]
        return xc @ evecs, evals, evals.new_tensor(float(xc.pow(2).sum() / (n - 1)))
    xc = acts.float() - acts.float().mean(0, keepdim=True)
    U, S, _ = _pca_lowrank(xc, min(k + 10, n, f), niter)
    U, S = U[:, :k].double(), S[:k].double()
    return U * S, S.pow(2) / (n - 1), torch.tensor(float(xc.double().pow(2).sum() / (n - 1)), dtype=torch.float64)


def _pca_lowrank(xc: torch.Tensor, q: int, niter: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # torch.pca_lowrank draws its random projection from the global RNG; fork it so that a
    # training job in this process is not disturbed and the result is repeatable.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return torch.pca_lowrank(xc, q=q, center=False, niter=niter)


def directions_from(z: torch.Tensor, acts: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GANSpace's transfer to latent space: PCA the activations, regress z on the PCA
    coordinates by least squares (z ~ x U^T), normalise U's columns and orthonormalise them in
    variance order. Returns (vectors (k, d), variance (k,), variance ratio (k,))."""
    n, d = z.shape
    k = max(1, min(k, d, n - 1, acts.shape[1]))
    x, var, total = pca(acts, k)
    keep = var > 1e-12 * max(float(total), 1e-30)  # components with no variance carry no direction
    x, var = x[:, keep], var[keep]
    if x.shape[1] == 0:
        raise ValueError("the layer's activations do not vary with z: no direction to find")
    coef = torch.linalg.lstsq(x, z.double()).solution  # (k, d): row i = z per unit of component i
    q, r = torch.linalg.qr(coef.T)  # Gram-Schmidt in variance order
    q = q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(1, dtype=r.dtype))
    return q.T.float().numpy(), var.numpy(), (var / total).numpy()


def find_directions(h: GeneratorHandle, *, label: Optional[int] = None, n: int = PCA_SAMPLES, k: int = COMPONENTS, layer: Optional[str] = None,
                    seed: int = 0) -> Directions:
    """GANSpace directions of the generator at `layer` (default: the first hidden block, `default_layer`).
    Conditional generators hold the class fixed at `label` (default 0)."""
    if n < 3:
        raise ValueError(f"need at least 3 samples for PCA, got {n}")
    if h.conditional and label is None:
        label = 0
    layer = layer or default_layer(layers(h))
    z = seeded_latents(seed, n, h.latent_dim)
    acts = activations(h, z, layer, label=label)
    vecs, var, ratio = directions_from(z, acts, k)
    return Directions(vecs, var, ratio, layer, n, label if h.conditional else None)


@lru_cache(maxsize=16)
def _cached_directions(run: str, path: str, mtime: float, layer: Optional[str], label: Optional[int], n: int,
                       k: int, seed: int) -> Directions:
    h = get_generator(Run(Path(run)), path)
    return find_directions(h, label=label, n=n, k=k, layer=layer, seed=seed)


def run_directions(run: str | Path | Run, checkpoint: str | Path | None = None, *, layer: Optional[str] = None,
                   label: Optional[int] = None, n: int = PCA_SAMPLES, k: int = COMPONENTS, seed: int = 0) -> Directions:
    """`find_directions` for a run's checkpoint, cached per process until the file changes."""
    run = _run(run)
    path = find_checkpoint(run, checkpoint)
    return _cached_directions(str(run.path), str(path), os.path.getmtime(path), layer, label, int(n), int(k), int(seed))


def run_layers(run: str | Path | Run, checkpoint: str | Path | None = None) -> list[Layer]:
    h = get_generator(_run(run), checkpoint)
    return layers(h)


def direction_strips(run: str | Path | Run, z: np.ndarray, directions: Directions, *, span: float = 3.0,
                     steps: int = 7, label: Optional[int] = None, checkpoint: str | Path | None = None,
                     truncation: tuple[str, float] = ("scale", 1.0), scale: int = 2) -> list[Image.Image]:
    """For each direction, the latent moved from -span to +span along it: one strip each
    (the middle frame is `z` itself when `steps` is odd)."""
    if steps < 2:
        raise ValueError(f"a strip needs at least 2 steps, got {steps}")
    h = get_generator(_run(run), checkpoint)
    t = np.linspace(-span, span, steps, dtype=np.float64)
    zs = np.asarray(z, np.float64)[None, None, :] + t[None, :, None] * directions.vectors.astype(np.float64)[:, None, :]
    zs = apply_truncation(zs.reshape(-1, zs.shape[-1]).astype(np.float32), *truncation)
    x = decode(h, zs, label=label)
    return [grid_image(x[i * steps:(i + 1) * steps], nrow=steps, scale=scale) for i in range(len(directions))]


# ---- 2-D grid between four corners ------------------------------------------------------
def corner_grid(corners: Any, rows: int, cols: int, mode: str = "slerp") -> np.ndarray:
    """Latents (rows, cols, d) filling the rectangle spanned by four corners, given as
    [top-left, top-right, bottom-left, bottom-right]. "linear" is bilinear interpolation;
    "slerp" interpolates spherically down the left and right edges, then along each row.
    The four corners come back exactly."""
    if mode not in GRID_MODES:
        raise ValueError(f"mode must be one of {', '.join(GRID_MODES)}, got {mode!r}")
    if rows < 2 or cols < 2:
        raise ValueError(f"the grid needs at least 2 rows and 2 columns, got {rows} x {cols}")
    c = torch.as_tensor(np.asarray(corners, np.float64))
    if c.dim() != 2 or c.shape[0] != 4:
        raise ValueError(f"give four corner latents (4, d), got shape {tuple(c.shape)}")
    f = slerp if mode == "slerp" else lerp
    tr = torch.linspace(0, 1, rows, dtype=torch.float64).unsqueeze(1)
    tc = torch.linspace(0, 1, cols, dtype=torch.float64).unsqueeze(1)
    left, right = f(c[0:1], c[2:3], tr), f(c[1:2], c[3:4], tr)  # (rows, d) each
    grid = torch.stack([f(left[i:i + 1], right[i:i + 1], tc) for i in range(rows)])  # (rows, cols, d)
    out = grid.numpy().astype(np.float32)
    src = np.asarray(corners, np.float32)
    out[0, 0], out[0, -1], out[-1, 0], out[-1, -1] = src[0], src[1], src[2], src[3]
    return out


def render_corner_grid(run: str | Path | Run, corners: Any, rows: int = 5, cols: int = 5, *, mode: str = "slerp",
                       label: Optional[int] = None, checkpoint: str | Path | None = None,
                       truncation: tuple[str, float] = ("scale", 1.0), scale: int = 2) -> Image.Image:
    g = corner_grid(corners, rows, cols, mode)
    z = apply_truncation(g.reshape(rows * cols, -1), *truncation)
    return render(run, z, label=label, checkpoint=checkpoint, nrow=cols, scale=scale)


# ---- class morph ------------------------------------------------------------------------
@torch.no_grad()
def class_morph(run: str | Path | Run, z: Any, label_a: int, label_b: int, steps: int = 8, *,
                checkpoint: str | Path | None = None, scale: int = 3) -> list[Image.Image]:
    """For each latent in `z` (m, d), the class blended from `label_a` to `label_b` in `steps`
    by interpolating the two label embeddings (`G.forward_embedded`): one strip per latent."""
    if steps < 2:
        raise ValueError(f"a morph needs at least 2 steps, got {steps}")
    h = get_generator(_run(run), checkpoint)
    if not h.conditional or not hasattr(h.G, "forward_embedded"):
        raise ValueError("this run's generator is unconditional: it has no class to morph")
    for lab in (label_a, label_b):
        if not 0 <= int(lab) < h.num_classes:
            raise ValueError(f"labels must be between 0 and {h.num_classes - 1}")
    zt = _as_z(z)
    device = h.device
    ea, eb = h.G.embed(h.labels(int(label_a), 1)), h.G.embed(h.labels(int(label_b), 1))
    t = torch.linspace(0, 1, steps, device=device).unsqueeze(1)
    emb = lerp(ea, eb, t)  # (steps, E)
    strips = []
    for row in zt:
        x = decode(h, row.expand(steps, -1), embedding=emb)
        strips.append(grid_image(x, nrow=steps, scale=scale))
    return strips


# ---- latent arithmetic ------------------------------------------------------------------
def latent_mean(zs: Any) -> np.ndarray:
    a = np.asarray(zs, np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise ValueError("pick at least one sample to average")
    return a.mean(0)


def combine_means(terms: Sequence[tuple[float, Any]]) -> np.ndarray:
    """sum_i weight_i * mean(group_i); empty groups are left out (but not all of them)."""
    used = [(w, g) for w, g in terms if len(g)]
    if not used:
        raise ValueError("pick at least one sample")
    return sum(w * latent_mean(g) for w, g in used).astype(np.float32)


def latent_arithmetic(a: Any, b: Any = (), c: Any = ()) -> np.ndarray:
    """mean(A) - mean(B) + mean(C), the DCGAN paper's vector arithmetic (e.g. smiling woman -
    neutral woman + neutral man). B and C may be empty; A may not."""
    if not len(a):
        raise ValueError("group A needs at least one sample")
    return combine_means([(1.0, a), (-1.0, b), (1.0, c)])


# ---- favourites -------------------------------------------------------------------------
@dataclass
class Favourite:
    name: str
    latent: list[float]
    seed: Optional[int] = None  # the seed it started from, when it came from one
    label: Optional[int] = None  # the class, for conditional models
    created: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Favourite":
        if not isinstance(d, dict) or not str(d.get("name", "")).strip() or not isinstance(d.get("latent"), list):
            raise ValueError(f"not a favourite (needs a name and a latent list): {str(d)[:80]}")
        return cls(str(d["name"]), [float(v) for v in d["latent"]],
                   None if d.get("seed") is None else int(d["seed"]),
                   None if d.get("label") is None else int(d["label"]), float(d.get("created", 0.0)))


def favourites_path(run: str | Path | Run) -> Path:
    return _run(run).favourites_file


def load_favourites(run: str | Path | Run) -> list[Favourite]:
    """The run's pinned latents, oldest first ([] when none). A damaged file raises ValueError
    rather than being overwritten by the next save."""
    path = favourites_path(run)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON ({e}); fix or delete it") from None
    items = data.get("favourites") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path} holds no list of favourites")
    return [Favourite.from_dict(d) for d in items]


def save_favourites(run: str | Path | Run, favs: Sequence[Favourite]) -> Path:
    doc = {"version": 1, "favourites": [asdict(f) for f in favs]}
    return atomic_write_text(favourites_path(run), json.dumps(doc, indent=1))


def add_favourite(run: str | Path | Run, fav: Favourite) -> list[Favourite]:
    """Pin `fav`; one of the same name is replaced. Returns the new list."""
    if not fav.name.strip():
        raise ValueError("a favourite needs a name")
    favs = [f for f in load_favourites(run) if f.name != fav.name] + [fav]
    save_favourites(run, favs)
    return favs


def remove_favourite(run: str | Path | Run, name: str) -> list[Favourite]:
    favs = [f for f in load_favourites(run) if f.name != name]
    save_favourites(run, favs)
    return favs


# ---- truncation curve -------------------------------------------------------------------
@dataclass
class TruncationCurve:
    method: str
    rows: list[dict[str, Any]]  # one per value: value, fid, fid_std, precision, recall, kid, ...
    n: int
    extractor: str
    checkpoint: str
    epoch: int
    note: str = ""  # e.g. the extractor fallback, or N capped by the data size
    stamp: dict[str, Any] = field(default_factory=dict)  # the checkpoint's size and mtime

    def column(self, name: str) -> list[float]:
        return [float(r.get(name, float("nan"))) for r in self.rows]

    @property
    def values(self) -> list[float]:
        return self.column("value")


def _stamp(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime": st.st_mtime}


def resolve(run: str | Path | Run, extractor: str = "auto") -> tuple[str, str]:
    """`resolve_extractor` for the run's data: (the extractor used, a fallback note or "")."""
    cfg = _run(run).config()
    return resolve_extractor(extractor, cfg.channels, cfg.inception_weights)


def curve_path(run: str | Path | Run, checkpoint: str | Path | None = None, *, method: str = "scale",
               n: int = CURVE_N, extractor: str = "auto") -> Path:
    run = _run(run)
    ck = find_checkpoint(run, checkpoint)
    name = resolve(run, extractor)[0]
    return run.explorer_dir / f"truncation-{ck.stem}-{method}-{name}-n{int(n)}.json"


def load_truncation_curve(run: str | Path | Run, checkpoint: str | Path | None = None, *, method: str = "scale",
                          n: int = CURVE_N, extractor: str = "auto") -> Optional[TruncationCurve]:
    """The cached curve when it was measured on this very checkpoint file, else None."""
    run = _run(run)
    ck = find_checkpoint(run, checkpoint)
    path = curve_path(run, ck, method=method, n=n, extractor=extractor)
    try:
        d = json.loads(path.read_text())
        curve = TruncationCurve(**d)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
    return curve if curve.stamp == _stamp(ck) else None


def truncation_curve(run: str | Path | Run, checkpoint: str | Path | None = None, *, method: str = "scale",
                     values: Optional[Sequence[float]] = None, n: int = CURVE_N, extractor: str = "auto",
                     progress: Optional[Progress] = None, recompute: bool = False) -> TruncationCurve:
    """FID, precision and recall of samples truncated at each of `values` (default
    CURVE_VALUES[method]), measured with `ganlib.metrics.evaluate` on `n` samples against `n`
    real images of the run's data. Cached in the run folder per checkpoint, method, extractor
    and N (atomically written), so a curve is measured once; `load_truncation_curve` reads it."""
    run = _run(run)
    if method not in TRUNCATION_METHODS:
        raise ValueError(f"truncation method must be one of {', '.join(TRUNCATION_METHODS)}, got {method!r}")
    name, note = resolve(run, extractor)
    ck = find_checkpoint(run, checkpoint)
    values = [float(v) for v in (values or CURVE_VALUES[method])]
    if not recompute:
        cached = load_truncation_curve(run, ck, method=method, n=n, extractor=name)
        if cached is not None and cached.values == values:
            return cached
    say = progress or (lambda f, t: None)
    h = get_generator(run, ck)
    cfg = run.config()
    say(0.0, f"Loading {cfg.dataset} and the {name} extractor")
    data = cached_run_data(cfg)
    m = max(2, min(int(n), len(data)))
    notes = [note] if note else []
    if m < n:
        notes.append(f"N capped at the {m:,} images of the run's data.")
    rows = []
    for i, v in enumerate(values):
        say(0.05 + 0.95 * i / len(values), f"{TRUNCATION_METHODS[method]}: {v:g} ({i + 1}/{len(values)})")
        res = evaluate_generator(dataclasses.replace(h, G=Truncated(h.G, method, v)), data, extractor=name, n=m,
                                 inception_weights=cfg.inception_weights, dataset_key=data_fields(cfg),
                                 n_boot=5, kid_subsets=20)
        rows.append({"value": float(v), **{k: res.row[k] for k in ("fid", "fid_std", "kid", "precision", "recall")}})
    say(1.0, "Done")
    curve = TruncationCurve(method, rows, m, res.row["extractor"], ck.name, h.epoch, " ".join(notes), _stamp(ck))
    atomic_write_text(curve_path(run, ck, method=method, n=n, extractor=name), json.dumps(asdict(curve), indent=1))
    return curve
