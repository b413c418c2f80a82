"""Layer 5, engine: training. The one training loop (`trainer`), the update rules of each
model family (one registry, keyed by the model's kind), the job manager that runs the loop in
a background thread, forks and live edits. It may import core, the plugins, metrics, store and
interchange; the explore tools, the CLI and the UI sit above it."""
