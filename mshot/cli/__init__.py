"""The `mshot` command line."""
