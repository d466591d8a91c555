"""The resource kinds, one module each, and the contract they implement (kind.py).

The registry that lists them in order is reconciler/registry.py, read by the command line and handed to
loading, reading, planning and export (docs/architecture.md).
"""
