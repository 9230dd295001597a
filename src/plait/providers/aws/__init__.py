"""Parsl's ``parsl.providers.aws`` package: blocks on Amazon EC2 (extra ``plait[aws]``)."""
