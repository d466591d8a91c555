"""Loading manifests: which files a set is (paths.py), the model of one file (document.py), reading and
checking them into a DesiredState (load.py), and pydantic's errors as positioned diagnostics (validation.py).
"""
