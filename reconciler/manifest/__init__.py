"""Loading manifests (moving into this package; for one commit its face hands on the names of load.py)."""

from reconciler.manifest.load import load_manifests, manifest_document

__all__ = ["load_manifests", "manifest_document"]
