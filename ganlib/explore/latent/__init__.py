"""Latent explorer: edit one latent vector and see what the generator makes of it.

    from ganlib.explore import latent as lx
    z = lx.seed_latent(7, 100)                              # numpy (latent_dim,)
    dirs = lx.run_directions(run, label=3)                  # GANSpace PCA directions in z-space
    z2 = lx.move(z, dirs, [2.0, -1.0])                      # along the first two directions
    img = lx.render(run, [lx.truncate(z2, 0.7)], label=3)   # PIL image
    strips = lx.direction_strips(run, z2, dirs, span=3)     # one preview strip per direction
    grid = lx.render_corner_grid(run, corners, 5, 5, mode="slerp")
    curve = lx.truncation_curve(run, progress=print)        # FID / precision / recall vs psi, cached

One module per feature: `latents` (seeds, moves, arithmetic), `truncation` (the trick and
`Truncated`), `truncation_curve` (the measured curve and its cache), `directions` (layers,
activations, GANSpace), `interpolation` (corner grid, class morph), `favourites`, and
`rendering` (latents to images). This package re-exports their public names, so pages use
`lx.<name>` without knowing which module holds it.

Every function takes and returns numpy arrays and PIL images, so pages need not import torch.
Latents are drawn with their own `torch.Generator` (never the global RNG: a job may be
training in the same process). Favourites (`favourites.json`) and truncation curves
(`explorer/truncation-*.json`) live in the run folder and are written atomically.
"""
from __future__ import annotations

from ganlib.explore.latent.directions import (
                                              COMPONENTS,
                                              PCA_SAMPLES,
                                              Directions,
                                              Layer,
                                              activations,
                                              default_layer,
                                              direction_strips,
                                              directions_from,
                                              find_directions,
                                              layers,
                                              pca,
                                              run_directions,
                                              run_layers,
)
from ganlib.explore.latent.favourites import (
                                              Favourite,
                                              add_favourite,
                                              favourites_path,
                                              load_favourites,
                                              remove_favourite,
                                              save_favourites,
)
from ganlib.explore.latent.interpolation import GRID_MODES, class_morph, corner_grid, render_corner_grid
from ganlib.explore.latent.latents import combine_means, latent_arithmetic, latent_mean, move, seed_latent, seed_latents
from ganlib.explore.latent.rendering import decode, render, render_each
from ganlib.explore.latent.truncation import (
                                              RESAMPLE_SEED,
                                              TRUNCATION_METHODS,
                                              Truncated,
                                              apply_truncation,
                                              truncate,
                                              truncate_resample,
                                              truncate_resample_t,
)
from ganlib.explore.latent.truncation_curve import (
                                              CURVE_N,
                                              CURVE_VALUES,
                                              TruncationCurve,
                                              curve_path,
                                              load_truncation_curve,
                                              resolve,
                                              truncation_curve,
)
from ganlib.explore.sampling import random_seed  # the page draws a fresh seed through lx

__all__ = [
    "COMPONENTS", "PCA_SAMPLES", "Directions", "Layer", "activations", "default_layer", "direction_strips",
    "directions_from", "find_directions", "layers", "pca", "run_directions", "run_layers",
    "Favourite", "add_favourite", "favourites_path", "load_favourites", "remove_favourite", "save_favourites",
    "GRID_MODES", "class_morph", "corner_grid", "render_corner_grid",
    "combine_means", "latent_arithmetic", "latent_mean", "move", "seed_latent", "seed_latents",
    "decode", "render", "render_each",
    "RESAMPLE_SEED", "TRUNCATION_METHODS", "Truncated", "apply_truncation", "truncate", "truncate_resample",
    "truncate_resample_t",
    "CURVE_N", "CURVE_VALUES", "TruncationCurve", "curve_path", "load_truncation_curve", "resolve", "truncation_curve",
    "random_seed",
]
