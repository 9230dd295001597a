"""The FTP server the data tests stage to and from (pyftpdlib; started by services/ftp.sh).

Users, all rooted at --root:
    anonymous              read-only (Parsl's FTP staging logs in anonymously)
    plait / plait-test     read, write, rename, delete
    reader / reader-test   read-only, so uploads fail with a permission error

Usage: python ftp_server.py --root DIR --port-file FILE   (binds 127.0.0.1, a free port)
"""

from __future__ import annotations

import argparse
import logging
import os

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    logging.basicConfig(level=logging.WARNING)
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(root)  # read-only: e, l, r
    authorizer.add_user("plait", "plait-test", root, perm="elradfmwMT")
    authorizer.add_user("reader", "reader-test", root, perm="elr")
    handler = FTPHandler
    handler.authorizer = authorizer
    handler.banner = "plait test FTP server"
    handler.auth_failed_timeout = 0.05  # a wrong password is a test case, not an attack
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    server.max_cons = 256
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.socket.getsockname()[1]))
    os.replace(tmp, args.port_file)  # the port file appears only once the socket listens
    server.serve_forever()


if __name__ == "__main__":
    main()
