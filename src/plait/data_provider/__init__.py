"""Parsl-compatible import path (``plait.data_provider.files``); see :mod:`plait.data`."""
