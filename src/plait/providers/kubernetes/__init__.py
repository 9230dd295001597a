"""Parsl's ``parsl.providers.kubernetes`` package: blocks as pods (extra ``plait[kubernetes]``)."""
