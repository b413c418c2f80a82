"""GAN Workbench's library: configs, datasets, models, losses, the training engine, the job
manager, the run store, sampling and the CLI (`python -m ganlib`). It never imports streamlit
outside `ganlib.ui`."""
__version__ = "0.1.0"
