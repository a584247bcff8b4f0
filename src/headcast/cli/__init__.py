"""The ``headcast`` command line."""
