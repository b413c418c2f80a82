"""The 2-D playground: a tiny GAN on toy point clouds that a student can watch learn (GAN Lab style).

    pg = Playground(PlaygroundConfig(distribution="ring", loss="nonsaturating"))
    pg.step(200)                      # 200 training steps on the CPU, a fraction of a second
    snap = pg.snapshot()              # plain numpy: points, D's heatmap, G's gradient arrows, traces
    modes_covered(snap["fake"], TOYS.get("ring").centres, radius=0.3, min_count=0.01).covered

    runner = PlaygroundRunner()       # the same, trained by a daemon thread (one per browser session)
    runner.play(); runner.speed = 20; runner.pause(); runner.step(); runner.reset(); runner.close()

G maps 2-d (or 8-d) Gaussian noise to the plane and D maps a point to one number; both are
small MLPs trained by the engine's own update rule (`ganlib.engine.update_rules.gan.GANUpdate`)
with the stabilisers that mean something in 2-D: n_critic, the WGAN-GP gradient penalty, R1,
WGAN weight clipping and instance noise. Modules: `toys` (the distributions and the mode
count), `config` (PlaygroundConfig), `networks` (G and D), `session` (Playground: training
and the views) and `runner` (the background thread).
"""
from __future__ import annotations

from ganlib.explore.playground.config import LIVE_FIELDS, PlaygroundConfig
from ganlib.explore.playground.networks import ToyDiscriminator, ToyGenerator
from ganlib.explore.playground.runner import PlaygroundRunner
from ganlib.explore.playground.session import Playground
from ganlib.explore.playground.toys import TOYS, Coverage, Toy, modes_covered, near_data_share

__all__ = ["LIVE_FIELDS", "PlaygroundConfig", "ToyDiscriminator", "ToyGenerator", "PlaygroundRunner", "Playground",
           "TOYS", "Coverage", "Toy", "modes_covered", "near_data_share"]
