"""OpenStack clouds (Nova; Jetstream2 and others): extra ``plait[openstack]``."""
