"""A diffusion run's sampler settings as controls: Euler steps and the guidance scale, with the
network evaluations one image costs. Every page that draws from noise (Generate, the Latent
explorer's walk, Real or fake) asks here; a GAN or VAE draws in one pass and gets no control."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from ganlib.models.diffusion import evaluations_per_image
from ganlib.models.handle import GeneratorHandle


def sampler_controls(info: GeneratorHandle, key: str, container=None) -> tuple[Optional[int], Optional[float]]:
    """(steps, guidance) for a diffusion run, chosen with two sliders that start at the run's own
    settings; (None, None) for a model that draws in one pass. Guidance is fixed at 1 (no
    guidance) for a run trained without label dropout, which learned no unconditional velocity."""
    own = info.sampler_settings()
    if not own:
        return None, None
    box = container or st
    cfg = info.config or {}
    steps = int(box.slider("Sampler steps", 1, 100, int(own["steps"]), key=f"{key}_sample_steps",
                           help="Euler steps from the initial noise to the image: each is one network evaluation "
                                "(two with guidance). Fewer is faster and rougher."))
    if info.conditional and float(cfg.get("label_dropout", 0.1)) > 0:
        guidance = float(box.slider("Guidance", 0.0, 10.0, float(own["guidance"]), 0.1,
                                    key=f"{key}_guidance",
                                    help="Classifier-free guidance scale: 1 = the conditional model alone, "
                                         "higher = closer to the label and less varied, 0 = ignore the label."))
    else:
        guidance = 1.0
    box.caption(f"{evaluations_per_image(steps, guidance)} network evaluations per image")
    return steps, guidance
