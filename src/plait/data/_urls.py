"""Parsing a File's URL into scheme, netloc and path, with an error for each malformed form.

Plain paths are taken verbatim (``data#1.txt`` is a file name, not a URL fragment);
``user@host:path`` is an rsync-over-SSH location. Schemes plait does not bundle parse as
URLs without further checks: a user's Staging provider may handle them, and the kernel
names the supported schemes at submit if none does.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from plait.data._errors import FileURLError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# user@host:path (scp syntax). A host part with no "@" ("host:path") stays a URL scheme,
# as in Parsl, so "data:1" keeps meaning scheme "data".
_SCP = re.compile(r"^(?P<netloc>[^@/:\s]+@[^/:\s]+):(?P<path>.*)$")
_HOST = re.compile(r"^[A-Za-z0-9_.~%-]+$|^\[[0-9A-Fa-f:.]+\]$")


class ParsedURL(NamedTuple):
    """The parts of a File's URL that File exposes (Parsl's attribute names)."""

    scheme: str
    netloc: str
    path: str
    fragment: str = ""


def parse(url: str) -> ParsedURL:
    """Split ``url`` into its parts, raising FileURLError if it is malformed."""
    if not url:
        raise FileURLError(url, "an empty string names no file")
    if "\x00" in url:
        raise FileURLError(url, "a NUL character cannot be part of a path or URL")
    scp = _SCP.match(url)
    if scp is not None:
        return _checked_rsync(url, scp["netloc"], scp["path"])
    if not _SCHEME.match(url):
        return ParsedURL("file", "", url)
    from urllib.parse import urlsplit  # here: keeps `import plait` fast

    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced [ in an IPv6 host
        raise FileURLError(url, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    parsed = ParsedURL(scheme, parts.netloc, parts.path, parts.fragment)
    check = _CHECKS.get(scheme)
    if check is not None:
        check(url, parsed)
    return parsed


def _checked_rsync(url: str, netloc: str, path: str) -> ParsedURL:
    if not path:
        raise FileURLError(url, "an rsync location needs a path after 'host:'")
    return ParsedURL("rsync", netloc, path)


def _host_of(url: str, netloc: str, what: str) -> None:
    """Fail unless ``netloc`` is ``[user[:password]@]host[:port]`` with a usable host."""
    if not netloc:
        raise FileURLError(url, f"the {what} needs a host: write {what.split()[0]}://host/path")
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):  # [IPv6]:port
        host, _, rest = hostport.partition("]")
        host, has_port, port = host + "]", rest.startswith(":"), rest[1:]
    else:
        host, sep, port = hostport.partition(":")
        has_port = bool(sep)
    if not host or not _HOST.match(host):
        raise FileURLError(url, f"{host!r} is not a host name")
    if has_port and not (port.isdigit() and 0 < int(port) < 65536):
        raise FileURLError(url, f"port {port!r} is not a number from 1 to 65535")


def _check_http(url: str, p: ParsedURL) -> None:
    _host_of(url, p.netloc, f"{p.scheme} URL")
    _check_fragment(url, p.fragment)


def _check_ftp(url: str, p: ParsedURL) -> None:
    _host_of(url, p.netloc, "ftp URL")
    if p.path in ("", "/"):
        raise FileURLError(url, "an ftp URL needs the file's path after the host")


def _check_file(url: str, p: ParsedURL) -> None:
    if p.netloc not in ("", "localhost"):
        raise FileURLError(url, f"a file URL names a local path, not host {p.netloc!r}: use "
                           "rsync://host/path or user@host:path for a remote machine")
    if not p.path:
        raise FileURLError(url, "a file URL needs a path")


def _check_rsync(url: str, p: ParsedURL) -> None:
    _host_of(url, p.netloc, "rsync URL")
    if p.path in ("", "/"):
        raise FileURLError(url, "an rsync URL needs the file's path after the host")


def _check_globus(url: str, p: ParsedURL) -> None:
    if not p.netloc:
        raise FileURLError(url, "a globus URL needs an endpoint: globus://ENDPOINT_ID/path")
    if p.path in ("", "/"):
        raise FileURLError(url, "a globus URL needs the file's path on the endpoint")


def _check_s3(url: str, p: ParsedURL) -> None:
    if not p.netloc:
        raise FileURLError(url, "an s3 URL needs a bucket: s3://bucket/key")
    if p.path in ("", "/"):
        raise FileURLError(url, "an s3 URL needs an object key after the bucket")


def _check_zip(url: str, p: ParsedURL) -> None:
    # zip://host/... is refused when the file is staged (ZipAuthorityError), as in Parsl,
    # where File() itself accepts it
    if not p.netloc:
        split_zip(url, p.path)


def split_zip(url: str, path: str) -> tuple[str, str]:
    """``/a/b.zip/c/d.txt`` → (``/a/b.zip``, ``c/d.txt``): the archive and its member."""
    archive, sep, member = path.partition(".zip/")
    if not sep or not member.strip("/"):
        raise FileURLError(url, "a zip URL names an archive and a member in it: "
                           "zip:/path/to/archive.zip/member/path")
    return archive + ".zip", member


def _check_fragment(url: str, fragment: str) -> None:
    if fragment and checksum_of(fragment) is None:
        raise FileURLError(url, f"the fragment #{fragment} is not a checksum: write "
                           "#sha256=HEX or #md5=HEX, or leave it out")


_DIGEST_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32, "sha512": 128}


def checksum_of(fragment: str) -> tuple[str, str] | None:
    """``sha256=ab..`` → (``sha256``, ``ab..``), or None if it is no known digest."""
    algo, sep, digest = fragment.partition("=")
    algo, digest = algo.lower(), digest.lower()
    if sep and _DIGEST_LENGTHS.get(algo) == len(digest) and \
            all(c in "0123456789abcdef" for c in digest):
        return algo, digest
    return None


_CHECKS = {"http": _check_http, "https": _check_http, "ftp": _check_ftp,
           "file": _check_file, "rsync": _check_rsync, "globus": _check_globus,
           "s3": _check_s3, "zip": _check_zip}
