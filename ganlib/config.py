"""Old import path, kept for scripts: the config now lives in `ganlib.store.config`."""
from ganlib.core.errors import ConfigError  # noqa: F401
from ganlib.store.config import (  # noqa: F401
                                 TrainConfig,
                                 changeable,
                                 check_against_data,
                                 field_specs,
                                 fixed_in,
                                 relevant_fields,
                                 with_changes,
)
