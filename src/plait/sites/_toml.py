"""TOML reading: the standard library's tomllib (Python 3.11+), else tomli (same API)."""

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError as TOMLDecodeError
    from tomllib import load as load
    from tomllib import loads as loads
else:  # pragma: no cover - Python 3.10
    from tomli import TOMLDecodeError as TOMLDecodeError
    from tomli import load as load
    from tomli import loads as loads
