"""The GitHub Action (action.yml): plan on pull requests with one comment, apply on push.

`python -m reconciler.github plan|apply` is what the action runs; see `reconciler.github.run`.
"""
