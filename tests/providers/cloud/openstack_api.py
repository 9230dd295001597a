"""Stand-in for an OpenStack cloud's Keystone v3, Nova v2.1, Glance v2 and Neutron v2.0 APIs.

A real Nova with its fake virt driver is packaged by Debian, but it needs a message queue, a
database, Keystone and Placement started and migrated: far beyond a test's budget. So this
serves replies shaped as the OpenStack API references document them: Keystone's version
document and password token (X-Subject-Token header, service catalog), Nova's and Glance's
version documents, servers, flavors, images and networks, and the error bodies Nova and
Keystone send (``{"forbidden": {"code": 403, "message": "Quota exceeded ..."}}``,
``{"error": {"code": 401, ...}}``). The test moves servers between statuses as the
hypervisor would (``set_status``).
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from standin import Reply, Request, StandIn

REGION = "RegionOne"


def nova_error(code: int, kind: str, message: str) -> Reply:
    return Reply(code, {kind: {"code": code, "message": message}})


class OpenStackAPI(StandIn):
    """One project in one region, with one user (password auth)."""

    def __init__(self, user: str, password: str, project: str) -> None:
        super().__init__()
        self.user, self.password, self.project = user, password, project
        self.project_id = uuid.uuid4().hex
        self.tokens: set[str] = set()
        self.images = {str(uuid.uuid4()): "Featured-Ubuntu24"}
        self.flavors = {str(uuid.uuid4()): "m3.small", str(uuid.uuid4()): "m3.quad"}
        self.networks = {str(uuid.uuid4()): "auto_allocated_network"}
        self.servers: dict[str, dict[str, Any]] = {}
        #: the project's instance quota
        self.max_instances = 10
        self.route("GET", "/identity/?", self.identity_versions)
        self.route("POST", "/identity/v3/auth/tokens", self.issue_token)
        self.route("GET", "/compute/?", self.compute_versions)
        self.route("GET", "/compute/v2.1/?", self.compute_version)
        self.route("GET", "/compute/v2.1/flavors/detail", self.list_flavors)
        self.route("GET", "/compute/v2.1/flavors/([^/]+)", self.get_flavor)
        self.route("POST", "/compute/v2.1/servers", self.create_server)
        self.route("GET", "/compute/v2.1/servers/detail", self.list_servers)
        self.route("DELETE", "/compute/v2.1/servers/([^/]+)", self.delete_server)
        self.route("GET", "/image/?", self.image_versions)
        self.route("GET", "/image/v2/images", self.list_images)
        self.route("GET", "/image/v2/images/([^/]+)", self.get_image)
        self.route("GET", "/network/?", self.network_versions)
        self.route("GET", "/network/v2.0/networks", self.list_networks)
        self.route("GET", "/network/v2.0/networks/([^/]+)", self.get_network)

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    # -- Keystone ---------------------------------------------------------------------------
    def identity_versions(self, req: Request) -> Reply:
        return Reply(300, {"versions": {"values": [{
            "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.auth_url}/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}]}]}})

    def issue_token(self, req: Request) -> Reply:
        pw = req.body["auth"]["identity"]["password"]["user"]
        if pw.get("name") != self.user or pw.get("password") != self.password:
            return Reply(401, {"error": {"code": 401, "title": "Unauthorized",
                                         "message": "The request you have made requires "
                                                    "authentication."}})
        token = secrets.token_hex(16)
        self.tokens.add(token)
        endpoint = lambda kind, path: {  # noqa: E731
            "type": kind, "name": kind, "id": uuid.uuid4().hex,
            "endpoints": [{"id": uuid.uuid4().hex, "interface": "public", "region": REGION,
                           "region_id": REGION, "url": f"{self.url}{path}"}]}
        now = time.time()
        return Reply(201, {"token": {
            "methods": ["password"],
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now + 3600)),
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now)),
            "user": {"id": uuid.uuid4().hex, "name": self.user,
                     "domain": {"id": "default", "name": "Default"}},
            "project": {"id": self.project_id, "name": self.project,
                        "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": uuid.uuid4().hex, "name": "member"}],
            "catalog": [endpoint("identity", "/identity"),
                        endpoint("compute", "/compute/v2.1"),
                        endpoint("image", "/image"), endpoint("network", "/network")]}},
            {"X-Subject-Token": token})

    def _authorized(self, req: Request) -> Reply | None:
        if req.headers.get("x-auth-token") not in self.tokens:
            return Reply(401, {"error": {"code": 401, "title": "Unauthorized",
                                         "message": "The request you have made requires "
                                                    "authentication."}})
        return None

    # -- version documents -------------------------------------------------------------------
    def _compute_doc(self) -> dict[str, Any]:
        return {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1",
                "updated": "2013-07-23T11:33:21Z",
                "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/"}]}

    def compute_versions(self, req: Request) -> Reply:
        return Reply(200, {"versions": [self._compute_doc()]})

    def compute_version(self, req: Request) -> Reply:
        return Reply(200, {"version": self._compute_doc()})

    def image_versions(self, req: Request) -> Reply:
        return Reply(300, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [
            {"rel": "self", "href": f"{self.url}/image/v2/"}]}]})

    def network_versions(self, req: Request) -> Reply:
        return Reply(200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
            {"rel": "self", "href": f"{self.url}/network/v2.0/"}]}]})

    # -- Glance, Neutron, flavors -----------------------------------------------------------
    def _image(self, iid: str) -> dict[str, Any]:
        return {"id": iid, "name": self.images[iid], "status": "active",
                "visibility": "public", "disk_format": "qcow2", "container_format": "bare",
                "self": f"/v2/images/{iid}", "schema": "/v2/schemas/image"}

    def list_images(self, req: Request) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        name = (req.query.get("name") or [None])[0]
        found = [self._image(i) for i, n in self.images.items() if name in (None, n)]
        return Reply(200, {"images": found, "schema": "/v2/schemas/images",
                           "first": "/v2/images"})

    def get_image(self, req: Request, iid: str) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        if iid not in self.images:
            return Reply(404, "404 Not Found\n\nNo image found with ID " + iid)
        return Reply(200, self._image(iid))

    def _flavor(self, fid: str) -> dict[str, Any]:
        return {"id": fid, "name": self.flavors[fid], "vcpus": 2, "ram": 6144, "disk": 20,
                "OS-FLV-EXT-DATA:ephemeral": 0, "swap": 0, "rxtx_factor": 1.0,
                "os-flavor-access:is_public": True, "description": None, "extra_specs": {},
                "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/flavors/{fid}"}]}

    def list_flavors(self, req: Request) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        return Reply(200, {"flavors": [self._flavor(f) for f in self.flavors]})

    def get_flavor(self, req: Request, fid: str) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        if fid not in self.flavors:
            return nova_error(404, "itemNotFound", f"Flavor {fid} could not be found.")
        return Reply(200, {"flavor": self._flavor(fid)})

    def _network(self, nid: str) -> dict[str, Any]:
        return {"id": nid, "name": self.networks[nid], "status": "ACTIVE",
                "admin_state_up": True, "shared": False, "subnets": [],
                "project_id": self.project_id, "tenant_id": self.project_id}

    def list_networks(self, req: Request) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        name = (req.query.get("name") or [None])[0]
        return Reply(200, {"networks": [self._network(n) for n, v in self.networks.items()
                                        if name in (None, v)]})

    def get_network(self, req: Request, nid: str) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        if nid not in self.networks:
            return Reply(404, {"NeutronError": {"type": "NetworkNotFound", "detail": "",
                                                "message": f"Network {nid} could not be "
                                                           "found."}})
        return Reply(200, {"network": self._network(nid)})

    # -- Nova servers -----------------------------------------------------------------------
    def create_server(self, req: Request) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        body = req.body["server"]
        if body.get("imageRef") not in self.images:
            return nova_error(400, "badRequest", "Invalid image identifier or image is not "
                              "usable.")
        if body.get("flavorRef") not in self.flavors:
            return nova_error(400, "badRequest", f"Flavor {body.get('flavorRef')} could not "
                              "be found.")
        with self.lock:
            if len(self.servers) >= self.max_instances:
                return nova_error(403, "forbidden", "Quota exceeded for instances: Requested "
                                  f"1, but already used {len(self.servers)} of "
                                  f"{self.max_instances} instances")
            sid = str(uuid.uuid4())
            self.servers[sid] = {
                "id": sid, "name": body["name"], "status": "BUILD", "metadata":
                body.get("metadata", {}), "tenant_id": self.project_id, "user_id": "u",
                "image": {"id": body["imageRef"]}, "flavor": {"original_name":
                                                             self.flavors[body["flavorRef"]]},
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "addresses": {},
                "OS-EXT-STS:task_state": "scheduling", "OS-EXT-STS:vm_state": "building",
                "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/servers/{sid}"}]}
        return Reply(202, {"server": {"id": sid, "OS-DCF:diskConfig": "MANUAL",
                                      "security_groups": [{"name": "default"}],
                                      "adminPass": secrets.token_urlsafe(9), "links": [
                                          {"rel": "self", "href": f"{self.url}/compute/v2.1/"
                                                                  f"servers/{sid}"}]}})

    def list_servers(self, req: Request) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        import re

        pattern = (req.query.get("name") or [None])[0]
        with self.lock:
            found = [s for s in self.servers.values()
                     if pattern is None or re.search(pattern, s["name"])]
        return Reply(200, {"servers": found})

    def delete_server(self, req: Request, sid: str) -> Reply:
        if (denied := self._authorized(req)) is not None:
            return denied
        with self.lock:
            if self.servers.pop(sid, None) is None:
                return nova_error(404, "itemNotFound", "Instance could not be found.")
        return Reply(204)

    def set_status(self, sid: str, status: str, **fields: Any) -> None:
        with self.lock:
            self.servers[sid].update(status=status, **fields)
