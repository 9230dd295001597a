"""A LOCAL STAND-IN for the Globus Transfer API, for tests only: the real service cannot be
reached from these machines. It speaks just enough of Transfer API v0.10 for globus-sdk's
TransferClient (submission ids, transfer submission, task status and cancel, rename) and
"transfers" by copying between the directories that stand for endpoints.

    with TransferStandIn({"ep-a": dir_a, "ep-b": dir_b}, token="t") as api:
        TransferClient(authorizer=AccessTokenAuthorizer("t"), base_url=api.url)

A missing source leaves the task ACTIVE with nice_status FILE_NOT_FOUND, as the real
service does while it retries. ``api.delay`` holds transfers ACTIVE for that many seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any


class TransferStandIn:
    """The stand-in server, on 127.0.0.1 and a free port, in a thread of the test."""

    def __init__(self, endpoints: dict[str, Path], token: str) -> None:
        self.endpoints, self.token = endpoints, token
        self.tasks: dict[str, dict[str, Any]] = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                stand_in.handle(self, "GET")

            def do_POST(self) -> None:
                stand_in.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="globus-standin")

    def __enter__(self) -> TransferStandIn:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def local(self, endpoint: str, path: str) -> Path:
        return self.endpoints[endpoint] / path.lstrip("/")

    # -- the API ----------------------------------------------------------------------------
    def handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            return reply(req, 401, {"code": "AuthenticationFailed",
                                    "message": "Token is not active"})
        body: dict[str, Any] = {}
        if method == "POST":
            length = int(req.headers.get("Content-Length") or 0)
            body = json.loads(req.rfile.read(length) or b"{}")
        parts = req.path.split("?")[0].strip("/").split("/")[1:]  # drop "v0.10"
        if parts == ["submission_id"]:
            return reply(req, 200, {"value": str(uuid.uuid4())})
        if parts == ["transfer"] and method == "POST":
            return self.submit(req, body)
        if len(parts) == 2 and parts[0] == "task":
            with self.lock:
                task = self.tasks.get(parts[1])
            if task is None:
                return reply(req, 404, {"code": "TaskNotFound", "message": parts[1]})
            return reply(req, 200, {"DATA_TYPE": "task", "task_id": parts[1], **task})
        if len(parts) == 3 and parts[0] == "task" and parts[2] == "cancel":
            with self.lock:
                self.tasks[parts[1]].update(status="FAILED", nice_status="CANCELED")
            return reply(req, 200, {"code": "Canceled", "message": "canceled"})
        if len(parts) == 4 and parts[:2] == ["operation", "endpoint"] and parts[3] == "rename":
            os.replace(self.local(parts[2], body["old_path"]),
                       self.local(parts[2], body["new_path"]))
            return reply(req, 200, {"code": "FileRenamed", "message": "File renamed"})
        return reply(req, 404, {"code": "NotFound", "message": req.path})

    def submit(self, req: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        src, dst = body["source_endpoint"], body["destination_endpoint"]
        for endpoint in (src, dst):
            if endpoint not in self.endpoints:
                return reply(req, 404, {"code": "EndpointNotFound",
                                        "message": f"No such endpoint '{endpoint}'"})
        task_id = str(uuid.uuid4())
        with self.lock:
            self.tasks[task_id] = {"status": "ACTIVE", "nice_status": "Queued"}
        threading.Thread(target=self.run, args=(task_id, src, dst, body["DATA"]),
                         daemon=True).start()
        reply(req, 202, {"DATA_TYPE": "transfer_result", "code": "Accepted",
                         "task_id": task_id, "submission_id": body.get("submission_id")})

    def run(self, task_id: str, src: str, dst: str, items: list[dict[str, Any]]) -> None:
        time.sleep(self.delay)  # workload: a transfer that takes a while
        for item in items:
            source = self.local(src, item["source_path"])
            if not source.exists():
                with self.lock:
                    self.tasks[task_id]["nice_status"] = "FILE_NOT_FOUND"
                return
            target = self.local(dst, item["destination_path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        with self.lock:
            self.tasks[task_id].update(status="SUCCEEDED", nice_status=None)


def reply(req: BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
    payload = json.dumps(data).encode()
    req.send_response(status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(payload)))
    req.end_headers()
    req.wfile.write(payload)
