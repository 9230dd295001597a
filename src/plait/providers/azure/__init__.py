"""Parsl's ``parsl.providers.azure`` package: blocks on Azure VMs (extra ``plait[azure]``)."""
