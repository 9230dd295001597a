"""Apps: the decorators that turn functions into tasks (public names live in ``plait``).

``plait.app.app``, ``plait.app.errors`` and ``plait.app.futures`` mirror Parsl's import
paths so migrated scripts keep working.
"""
