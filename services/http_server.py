"""The HTTP server the data tests stage from (started by services/http.sh; loopback only).

Serves the files under --root with ETag, Last-Modified, conditional GET (304), HEAD and
single byte ranges (206), bodies sent with sendfile, HTTP/1.1 keep-alive. Fault routes put
a fault in front of a path; KEY is any token a test picks so that tests do not share counts:

    /flaky/N/KEY/path     503 for the first N requests of KEY, then the file
    /cut/N/KEY/path       the first N requests of KEY send half the body and close
    /cutnorange/KEY/path  like /cut/1/, and the file is served without range support
    /forbidden/path       403
    /redirect/HOST/path   302 to http://HOST:<this port>/path (HOST: 127.0.0.1 or localhost)
    /auth/TOKEN/path      the file only with "Authorization: Bearer TOKEN" or Basic auth
                          of user "plait" with password TOKEN, else 401
    /count/KEY            how many requests KEY has had (text), for tests to assert on;
                          /count/KEY:GET and /count/KEY:HEAD count one method
    anything missing      404

Usage: python http_server.py --root DIR --port-file FILE [--tls-cert PEM --tls-key PEM]
Binds 127.0.0.1 on a free port (and, with a certificate, a second one for HTTPS); the port
file holds "HTTP_PORT [HTTPS_PORT]".
"""

from __future__ import annotations

import argparse
import base64
import collections
import email.utils
import os
import re
import ssl
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS: collections.Counter[str] = collections.Counter()
COUNTS_LOCK = threading.Lock()
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def hit(key: str, method: str) -> int:
    """Count one request for ``key``; return how many it has had, this one included."""
    with COUNTS_LOCK:
        COUNTS[f"{key}:{method}"] += 1
        COUNTS[key] += 1
        return COUNTS[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out in separate sends
    server_version = "plait-test-http/1"
    root = "."

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests read no log
        pass

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        parts = self.path.split("?", 1)[0].lstrip("/").split("/")
        route = parts[0]
        if route == "count" and len(parts) == 2:
            with COUNTS_LOCK:
                return self._text(HTTPStatus.OK, str(COUNTS[parts[1]]))
        if route == "forbidden":
            return self._text(HTTPStatus.FORBIDDEN, "forbidden")
        cut, ranges = False, True
        if route == "redirect" and len(parts) > 2:
            port = self.server.server_address[1]
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", f"http://{parts[1]}:{port}/{'/'.join(parts[2:])}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if route == "auth" and len(parts) > 2:
            token, parts = parts[1], parts[2:]
            basic = base64.b64encode(f"plait:{token}".encode()).decode()
            if self.headers.get("Authorization") not in (f"Bearer {token}", f"Basic {basic}"):
                self.send_response(HTTPStatus.UNAUTHORIZED)
                self.send_header("WWW-Authenticate", 'Basic realm="plait-test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
        elif route == "flaky" and len(parts) > 3:
            if hit(parts[2], self.command) <= int(parts[1]):
                return self._text(HTTPStatus.SERVICE_UNAVAILABLE, "try again")
            parts = parts[3:]
        elif route == "cut" and len(parts) > 3:
            cut = hit(parts[2], self.command) <= int(parts[1])
            parts = parts[3:]
        elif route == "cutnorange" and len(parts) > 2:
            cut, ranges = hit(parts[1], self.command) <= 1, False
            parts = parts[2:]
        self._serve(os.path.join(self.root, *parts), body, cut, ranges)

    def _serve(self, path: str, body: bool, cut: bool, ranges: bool) -> None:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below, after sendfile
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._text(HTTPStatus.NOT_FOUND, "not found")
        with f:
            st = os.fstat(f.fileno())
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
            modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            if self.headers.get("If-None-Match") == etag or (
                    "If-None-Match" not in self.headers
                    and self.headers.get("If-Modified-Since") == modified):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self._validators(etag, modified, ranges)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = 0, st.st_size
            status = HTTPStatus.OK
            wanted = self.headers.get("Range")
            if ranges and wanted and self.headers.get("If-Range", etag) == etag:
                m = _RANGE.match(wanted.strip())
                if m is None or (not m[1] and not m[2]):
                    return self._text(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "bad range")
                if m[1]:
                    start = int(m[1])
                    end = min(int(m[2]) + 1, st.st_size) if m[2] else st.st_size
                else:
                    start = max(st.st_size - int(m[2]), 0)
                if start >= st.st_size:
                    return self._text(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "past end")
                status = HTTPStatus.PARTIAL_CONTENT
            self.send_response(status)
            self._validators(etag, modified, ranges)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start))
            if status is HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{st.st_size}")
            self.end_headers()
            if not body:
                return
            self.wfile.flush()
            count = (end - start) // 2 if cut else end - start
            sock = self.connection
            if isinstance(sock, ssl.SSLSocket):  # sendfile would bypass the encryption
                f.seek(start)
                while count > 0 and (block := f.read(min(count, 1 << 20))):
                    sock.sendall(block)
                    count -= len(block)
            offset = start
            while count > 0:
                sent = os.sendfile(sock.fileno(), f.fileno(), offset, min(count, 1 << 24))
                if sent == 0:
                    break
                offset += sent
                count -= sent
            if cut:  # the connection dies halfway through the body
                self.close_connection = True
                sock.shutdown(2)

    def _validators(self, etag: str, modified: str, ranges: bool) -> None:
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        if ranges:
            self.send_header("Accept-Ranges", "bytes")

    def _text(self, status: HTTPStatus, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    Handler.root = os.path.abspath(args.root)
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler)]
    if args.tls_cert:
        tls = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        tls.socket = context.wrap_socket(tls.socket, server_side=True)
        servers.append(tls)
    for server in servers:
        server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(" ".join(str(s.server_address[1]) for s in servers))
    os.replace(tmp, args.port_file)  # the port file appears only once the sockets listen
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
