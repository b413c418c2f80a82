"""Layer 6, explore: what people do with trained runs. Sampling and latent walks, epoch
inspection, human evaluation, run comparison, timelapses, the latent explorer, the 2-D
playground (which reuses the engine's update rule) and evaluating a saved checkpoint. It may
import every layer below it (core, plugins, metrics, store, interchange, engine); only the
CLI and the UI import it."""
