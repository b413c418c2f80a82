"""Principal directions of a generator (GANSpace), the layers they may be taken at, and one
preview strip per direction.

Principal directions follow GANSpace (Härkönen et al. 2020, harskish/ganspace) for generators
without a style network: sample many z, record an early hidden layer's activations with a
forward hook, take their principal components, then regress z on the PCA coordinates (least
squares) to find the direction in z that produces each component. Directions come back as
orthonormal unit vectors in z-space (Gram-Schmidt in variance order), sorted by the variance
their component explains. `run_directions` caches them per process until the checkpoint changes.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from ganlib.core.errors import BadValue
from ganlib.core.images import grid_image
from ganlib.explore.latent.inputs import as_run
from ganlib.explore.latent.rendering import decode
from ganlib.explore.latent.truncation import apply_truncation
from ganlib.explore.sampling import get_generator
from ganlib.models.handle import GeneratorHandle, seeded_latents
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.run_folder import Run

PCA_SAMPLES = 2000  # latents behind the principal directions
COMPONENTS = 10  # directions found by default
_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.PReLU, nn.Softplus)
_SKIP = (nn.Embedding, nn.Dropout, nn.Identity, nn.Flatten, nn.Unflatten)


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
            if isinstance(output, torch.Tensor) and not any(known.name == name for known in order):
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
    blocks = [i for i, entry in enumerate(found) if entry.kind in ("Linear", "ConvTranspose2d", "Conv2d")]
    if not blocks:
        if not found:
            raise BadValue("the generator ran no layer that a hook can record")
        return found[0].name
    first, nxt = blocks[0], (blocks[1] if len(blocks) > 1 else len(found))
    acts = [entry for entry in found[first + 1:nxt] if entry.kind in {c.__name__ for c in _ACTIVATIONS}]
    return acts[-1].name if acts else found[first].name


class _Enough(Exception):
    """Raised by the hook once the layer is recorded: the rest of G need not run."""


@torch.no_grad()
def activations(h: GeneratorHandle, z: torch.Tensor, layer: str, *, label: Optional[int] = None,
                chunk: int = 500) -> torch.Tensor:
    """The named layer's outputs for latents `z`, flattened to (n, features), float32 on the CPU."""
    modules = dict(h.G.named_modules())
    if layer not in modules:
        raise BadValue(f"the generator has no layer {layer!r}")
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
        raise BadValue("the layer's activations do not vary with z: no direction to find")
    coef = torch.linalg.lstsq(x, z.double()).solution  # (k, d): row i = z per unit of component i
    q, r = torch.linalg.qr(coef.T)  # Gram-Schmidt in variance order
    q = q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(1, dtype=r.dtype))
    return q.T.float().numpy(), var.numpy(), (var / total).numpy()


def find_directions(h: GeneratorHandle, *, label: Optional[int] = None, n: int = PCA_SAMPLES, k: int = COMPONENTS,
                    layer: Optional[str] = None, seed: int = 0) -> Directions:
    """GANSpace directions of the generator at `layer` (default: the first hidden block, `default_layer`).
    Conditional generators hold the class fixed at `label` (default 0)."""
    if n < 3:
        raise BadValue(f"need at least 3 samples for PCA, got {n}")
    if h.conditional and label is None:
        label = 0
    layer = layer or default_layer(layers(h))
    z = seeded_latents(seed, n, h.latent_dim)
    acts = activations(h, z, layer, label=label)
    vecs, var, ratio = directions_from(z, acts, k)
    return Directions(vecs, var, ratio, layer, n, label if h.conditional else None)


# ---- for a run's checkpoint -------------------------------------------------------------
@lru_cache(maxsize=16)
def _cached_directions(run: str, path: str, mtime: float, layer: Optional[str], label: Optional[int], n: int,
                       k: int, seed: int) -> Directions:
    h = get_generator(Run(Path(run)), path)
    return find_directions(h, label=label, n=n, k=k, layer=layer, seed=seed)


def run_directions(run: str | Path | Run, checkpoint: str | Path | None = None, *, layer: Optional[str] = None,
                   label: Optional[int] = None, n: int = PCA_SAMPLES, k: int = COMPONENTS, seed: int = 0) -> Directions:
    """`find_directions` for a run's checkpoint, cached per process until the file changes."""
    run = as_run(run)
    path = find_checkpoint(run, checkpoint)
    return _cached_directions(str(run.path), str(path), os.path.getmtime(path), layer, label, int(n), int(k), int(seed))


def run_layers(run: str | Path | Run, checkpoint: str | Path | None = None) -> list[Layer]:
    h = get_generator(as_run(run), checkpoint)
    return layers(h)


def direction_strips(run: str | Path | Run, z: np.ndarray, directions: Directions, *, span: float = 3.0,
                     steps: int = 7, label: Optional[int] = None, checkpoint: str | Path | None = None,
                     truncation: tuple[str, float] = ("scale", 1.0), scale: int = 2) -> list[Image.Image]:
    """For each direction, the latent moved from -span to +span along it: one strip each
    (the middle frame is `z` itself when `steps` is odd)."""
    if steps < 2:
        raise BadValue(f"a strip needs at least 2 steps, got {steps}")
    h = get_generator(as_run(run), checkpoint)
    t = np.linspace(-span, span, steps, dtype=np.float64)
    zs = np.asarray(z, np.float64)[None, None, :] + t[None, :, None] * directions.vectors.astype(np.float64)[:, None, :]
    zs = apply_truncation(zs.reshape(-1, zs.shape[-1]).astype(np.float32), *truncation)
    x = decode(h, zs, label=label)
    return [grid_image(x[i * steps:(i + 1) * steps], nrow=steps, scale=scale) for i in range(len(directions))]
