"""Layer 0, core: what every other layer needs and nothing GAN-specific. The name registry,
the errors (`ConfigError`), atomic file writes, image encoding (grids, PNG, GIF), the device
and CPU-thread helpers. It imports only the standard library, torch, numpy and PIL, never
another `ganlib` layer."""
