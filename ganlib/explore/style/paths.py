"""Walking the latent spaces: interpolation in Z and in W side by side, and the perceptual path
length (Karras et al. 2019, section 4.2) in both, the paper's measure of entanglement.

PPL = E[ d(G(p(t)), G(p(t + eps))) / eps^2 ], t ~ U(0, 1), eps = 1e-4, with p a slerp between
two z's (in Z) or a lerp between their w's (in W), the noise the same at both ends. The paper's
d is LPIPS, whose weights cannot be had offline: here d is the squared distance between the
digit classifier's standardised features (`metrics/extractor_digits.py`), so the numbers are
comparable between Z and W of one model, not with the paper's. As StyleGAN2's code does, the
pairs outside the 1st-99th percentile are left out of the mean."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from ganlib.core.errors import BadValue
from ganlib.explore.sampling import slerp
from ganlib.explore.style.styles import broadcast, synthesize, w_of
from ganlib.metrics.extractor_choice import get_extractor
from ganlib.models.handle import GeneratorHandle, seeded_latents

SPACES = ("z", "w")
PPL_EPS = 1e-4
PPL_N = 2_000  # pairs
PPL_BATCH = 200


def unit_slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The paper's path in Z: the one `slerp` between the normalised latents (unit vectors stay
    on the unit sphere)."""
    return slerp(a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True), t)


@torch.no_grad()
def interpolate_z_w(h: GeneratorHandle, seed_a: int, seed_b: int, steps: int = 8,
                    psi: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(images along the Z path, images along the W path): the same two ends, `steps` images
    each; Z is a linear walk between the latents mapped one by one, W a linear walk between
    their w's. The noise is the same for every image."""
    if steps < 2:
        raise BadValue(f"an interpolation needs at least 2 steps, got {steps}")
    za, zb = seeded_latents(int(seed_a), 1, h.latent_dim), seeded_latents(int(seed_b), 1, h.latent_dim)
    t = torch.linspace(0, 1, steps)[:, None]
    z_path = torch.lerp(za, zb, t)
    wa, wb = w_of(h, za, psi), w_of(h, zb, psi)
    w_z = w_of(h, z_path, psi)
    w_w = torch.lerp(wa, wb, t.to(wa.device))
    g = torch.Generator().manual_seed(0)
    noise = [torch.randn((1, *s[1:]), generator=g).expand(steps, -1, -1, -1).clone() for s in h.G.noise_shapes(1)]
    L = h.G.num_ws
    return synthesize(h, broadcast(w_z, L), noise), synthesize(h, broadcast(w_w, L), noise)


@torch.no_grad()
def path_length(h: GeneratorHandle, space: str = "w", n: int = PPL_N, eps: float = PPL_EPS, seed: int = 0,
                progress: Optional[Any] = None) -> dict[str, Any]:
    """The perceptual path length of `h`'s generator in Z or W over `n` pairs (see the module)."""
    if space not in SPACES:
        raise BadValue(f"space must be z or w, got {space!r}")
    if n < 10:
        raise BadValue(f"n must be at least 10 pairs, got {n}")
    G, ext = h.G, get_extractor("digits", str(h.device))
    gen = torch.Generator().manual_seed(int(seed))
    dists = []
    for start in range(0, n, PPL_BATCH):
        m = min(PPL_BATCH, n - start)
        z1, z2 = torch.randn(m, h.latent_dim, generator=gen), torch.randn(m, h.latent_dim, generator=gen)
        t = torch.rand(m, 1, generator=gen)
        if space == "z":
            w0 = w_of(h, unit_slerp(z1, z2, t))
            w1 = w_of(h, unit_slerp(z1, z2, t + eps))
        else:
            wa, wb = w_of(h, z1), w_of(h, z2)
            tt = t.to(wa.device)
            w0, w1 = torch.lerp(wa, wb, tt), torch.lerp(wa, wb, tt + eps)
        noise = [torch.randn(s, generator=gen).repeat(2, 1, 1, 1) for s in G.noise_shapes(m)]
        x = synthesize(h, broadcast(torch.cat([w0, w1]), G.num_ws), noise)
        f = ext.features(x.float()).double()
        dists.append(((f[:m] - f[m:]) ** 2).sum(1) / eps ** 2)
        if progress:
            progress(min(1.0, (start + m) / n), f"PPL in {space.upper()}: {start + m:,} of {n:,} pairs")
    d = torch.cat(dists).cpu().numpy()
    lo, hi = np.percentile(d, 1), np.percentile(d, 99)
    kept = d[(d >= lo) & (d <= hi)]
    return {"space": space, "ppl": float(kept.mean()), "n": int(n), "kept": int(len(kept)), "eps": eps,
            "extractor": "digits", "epoch": h.epoch}
