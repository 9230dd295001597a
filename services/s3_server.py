"""An S3-compatible object store for the staging tests: moto's server mode (a real HTTP
server speaking the S3 API, installed from PyPI), started by services/s3.sh.

Usage: python s3_server.py --port-file FILE   (binds 127.0.0.1, a free port)
"""

from __future__ import annotations

import argparse
import os
import threading

from moto.server import ThreadedMotoServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.get_host_and_port()[1]))
    os.replace(tmp, args.port_file)  # the port file appears only once the socket listens
    threading.Event().wait()  # serve until killed


if __name__ == "__main__":
    main()
