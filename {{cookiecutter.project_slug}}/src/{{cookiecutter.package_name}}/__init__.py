"""The service package: an app factory in ``main`` and one folder per feature."""
