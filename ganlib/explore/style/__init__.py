"""The Style explorer's library: what each StyleGAN part does, on the user's own model.

    from ganlib.explore import style as sx
    h = sx.style_handle(run)                                   # refuses a run that is not stylegan
    images, cols = sx.style_mix_grid(h, [1, 2, 3], [10, 11], "coarse")
    samples, std = sx.resample_noise(h, seed=5, layers=[4, 5]) # fixed w, fresh noise at layers 4, 5
    z_row, w_row = sx.interpolate_z_w(h, 1, 2, steps=8)
    sx.path_length(h, "w")["ppl"]                              # perceptual path length in W

`styles` (the w's, mixing), `noise` (stochastic variation), `paths` (interpolation, PPL),
`pictures` (the same as PIL images for the page, which holds no torch). Truncation in W is
the latent explorer's curve (`explore.latent.truncation_curve(run, method="w")`): one
measurement and one cache.
"""
from __future__ import annotations

from ganlib.explore.style.noise import resample_noise, std_map_image
from ganlib.explore.style.paths import PPL_EPS, PPL_N, SPACES, interpolate_z_w, path_length
from ganlib.explore.style.pictures import interpolation_pictures, layer_names, mixing_picture, noise_pictures
from ganlib.explore.style.styles import (
    CROSSOVERS,
    broadcast,
    crossover_layers,
    fixed_noise,
    level_layers,
    mix_ws,
    seeds_w,
    style_handle,
    style_mix_grid,
    synthesize,
    w_of,
)

__all__ = [
    "interpolation_pictures", "layer_names", "mixing_picture", "noise_pictures", "CROSSOVERS", "PPL_EPS", "PPL_N",
    "SPACES", "broadcast", "crossover_layers", "fixed_noise", "interpolate_z_w", "level_layers",
    "mix_ws", "path_length", "resample_noise", "seeds_w", "std_map_image",
    "style_handle", "style_mix_grid", "synthesize", "w_of",
]
