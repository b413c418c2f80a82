"""Layer 3, store: what a run *is* on disk. The validated `TrainConfig`, the run folder (the
only code that names the files inside a run: config, status, metrics, evaluations, edits,
samples, checkpoints, best), checkpoint reading and writing, checkpoint lookup, the named
config presets (`presets`) and a run's health verdict read from its files (`run_health`). It may
import core, the plugins (data, models, losses) and metrics (the extractor registry, to
validate a config), never the engine or anything above it."""
