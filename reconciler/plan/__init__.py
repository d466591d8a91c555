"""The plan: what it is (model.py), how it is built (build.py) from drafts (draft.py), ordered (order.py)
and narrowed to --target (targets.py). Pure: no IO. What may be applied is judged from above, on the
finished plan (reconciler/safety.py, docs/architecture.md); nothing here calls it.
"""
