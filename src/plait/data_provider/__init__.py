"""Parsl-compatible import paths for files and staging providers; see :mod:`plait.data`.

``files`` (File), ``staging`` (Staging), ``data_manager`` (DataManager, default_staging),
``file_noop``, ``http``, ``ftp``, ``zip``, ``rsync``, ``globus`` and ``s3`` (plait's).
"""
