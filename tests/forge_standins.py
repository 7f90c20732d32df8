"""Local stand-ins for the forges' REST APIs (no forge can run here): an HTTP server on
127.0.0.1 that answers as each forge's API reference documents it, its error shapes too.

Every request is checked before it is answered: the method and path must be one of the
forge's documented routes, the query keys ones it documents, and a JSON body must match the
request shape transcribed below from the forge's published description (GitHub's OpenAPI
description `api.github.com`, GitLab's API reference, Gitea's swagger `v1_json`, Bitbucket's
API 2.0 swagger), with `additionalProperties: false` added: stricter than the forges, which
ignore an unknown key, so that a misspelt key is caught here instead of ignored there. A
request that fails is answered with the forge's own validation error and recorded in
`malformed`; tests assert that chartfix sent none.

A stand-in stops itself after LIFETIME seconds, or when its `with` block ends.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema

LIFETIME = 120.0
TOKEN = "standin-token-5f2c"

Reply = tuple[int, Any, dict[str, str]]


def _string_array(min_items: int = 0) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "minItems": min_items}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


@dataclass
class Route:
    method: str
    pattern: str
    handler: Callable[..., Reply]
    body: dict[str, Any] | None = None
    query: frozenset[str] = frozenset()


@dataclass
class Fault:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class StandIn:
    """One forge's API: routes, state, faults to answer next, what was asked."""

    prefix: str = ""
    token: str = TOKEN
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what each forge defines -----------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authorised(self, headers: Any) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Reply:
        raise NotImplementedError

    def invalid(self, reason: str) -> Reply:
        raise NotImplementedError

    def not_found(self) -> Reply:
        raise NotImplementedError

    def rate_limited(self, wait: int) -> Fault:
        raise NotImplementedError

    # --- the server --------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return self.base_url + self.prefix

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        self.faults += [fault] * times

    def writes(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] != "GET"]

    def answer(self, method: str, raw_path: str, headers: Any, raw: bytes) -> Reply:
        path, _, query_text = raw_path.partition("?")
        query = dict(urllib.parse.parse_qsl(query_text, keep_blank_values=True))
        body = json.loads(raw) if raw else None
        with self.lock:
            self.requests.append((method, path, body))
            if self.faults:
                fault = self.faults.pop(0)
                return fault.status, fault.body, fault.headers
            if not self.authorised(headers):
                return self.unauthorised()
            if not path.startswith(self.prefix):
                return self.not_found()
            inner = path[len(self.prefix):]
            for route in self.routes():
                match = re.fullmatch(route.pattern, inner)
                if route.method != method or match is None:
                    continue
                reason = self._check(route, query, body, headers)
                if reason is not None:
                    self.malformed.append(f"{method} {inner}: {reason}")
                    return self.invalid(reason)
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                return route.handler(query=query, body=body, **params)
            self.malformed.append(f"{method} {inner}: no such route")
            return self.not_found()

    def _check(self, route: Route, query: dict[str, str], body: Any, headers: Any) -> str | None:
        unknown = sorted(set(query) - route.query)
        if unknown:
            return f"unknown query parameter {unknown[0]}"
        if route.body is None:
            return None if body is None else "this route takes no body"
        if headers.get("Content-Type") != "application/json":
            return "the body is not sent as application/json"
        try:
            jsonschema.validate(body, route.body)
        except jsonschema.ValidationError as err:
            where = ".".join(map(str, err.absolute_path)) or "body"
            return f"{where}: {err.message}"
        return None


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        status, body, headers = self.standin.answer(self.command, self.path, self.headers,
                                                    self.rfile.read(length))
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        kind = "text/plain" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@contextmanager
def serving(standin: StandIn) -> Iterator[StandIn]:
    """Serve `standin` on 127.0.0.1 (a free port) until the block ends or LIFETIME passes."""
    handler = type("Handler", (_Handler,), {"standin": standin})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    standin.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    timer = threading.Timer(LIFETIME, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield standin
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- GitHub: https://docs.github.com/en/rest/pulls/pulls ---------------------------------------

GITHUB_BODY_LIMIT = 65536


@dataclass
class GitHubStandIn(StandIn):
    """api.github.com: pulls create/list/update, issue labels, requested reviewers."""

    def routes(self) -> list[Route]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        return [
            Route("GET", repo + "/pulls", self.list_pulls,
                  query=frozenset({"state", "head", "base", "sort", "direction", "per_page",
                                   "page"})),
            Route("POST", repo + "/pulls", self.create, _object({
                "title": {"type": "string"}, "head": {"type": "string"},
                "head_repo": {"type": "string"}, "base": {"type": "string"},
                "body": {"type": "string"}, "maintainer_can_modify": {"type": "boolean"},
                "draft": {"type": "boolean"}, "issue": {"type": "integer"},
            }, ("head", "base"))),
            Route("PATCH", repo + r"/pulls/(?P<number>\d+)", self.update, _object({
                "title": {"type": "string"}, "body": {"type": "string"},
                "state": {"enum": ["open", "closed"]}, "base": {"type": "string"},
                "maintainer_can_modify": {"type": "boolean"},
            })),
            Route("POST", repo + r"/issues/(?P<number>\d+)/labels", self.labels,
                  _object({"labels": _string_array(1)}, ("labels",))),
            Route("POST", repo + r"/pulls/(?P<number>\d+)/requested_reviewers", self.reviewers,
                  _object({"reviewers": _string_array(), "team_reviewers": _string_array()})),
        ]

    def authorised(self, headers: Any) -> bool:
        return headers.get("Authorization") in (f"Bearer {self.token}", f"token {self.token}")

    def _error(self, code: int, message: str, **extra: Any) -> Reply:
        return code, {"message": message, **extra,
                      "documentation_url": "https://docs.github.com/rest"}, {}

    def unauthorised(self) -> Reply:
        return self._error(401, "Bad credentials", status="401")

    def invalid(self, reason: str) -> Reply:
        return self._error(422, f"Invalid request.\n\n{reason}")

    def not_found(self) -> Reply:
        return self._error(404, "Not Found", status="404")

    def rate_limited(self, wait: int) -> Fault:
        return Fault(403, {"message": "API rate limit exceeded for user ID 1.",
                           "documentation_url": "https://docs.github.com/rest"},
                     {"x-ratelimit-remaining": "0",
                      "x-ratelimit-reset": str(int(time.time()) + wait)})

    def _failed(self, field_name: str, message: str) -> Reply:
        return self._error(422, "Validation Failed", errors=[
            {"resource": "PullRequest" if field_name != "body" else "Issue", "code": "custom",
             "field": field_name, "message": message}])

    def list_pulls(self, query: dict[str, str], body: Any, owner: str, repo: str) -> Reply:
        found = [p for p in self.pulls.values()
                 if p["repo"] == f"{owner}/{repo}" and p["state"] == query.get("state", "open")
                 and query.get("head") in (None, p["head"]["label"])
                 and query.get("base") in (None, p["base"]["ref"])]
        return 200, found, {}

    def create(self, query: dict[str, str], body: Any, owner: str, repo: str) -> Reply:
        if len(body.get("body", "")) > GITHUB_BODY_LIMIT:
            return self._failed("body", f"body is too long (maximum is {GITHUB_BODY_LIMIT} "
                                        "characters)")
        label = f"{owner}:{body['head']}"
        if any(p["head"]["label"] == label and p["state"] == "open"
               and p["repo"] == f"{owner}/{repo}" for p in self.pulls.values()):
            return self._failed("head", f"A pull request already exists for {label}.")
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "number": number, "repo": f"{owner}/{repo}", "state": "open",
            "title": body.get("title", ""),
            "body": body.get("body"), "draft": body.get("draft", False),
            "html_url": f"https://github.example/{owner}/{repo}/pull/{number}",
            "head": {"ref": body["head"], "label": label}, "base": {"ref": body["base"]},
            "labels": [], "requested_reviewers": [],
        }
        return 201, self.pulls[number], {}

    def update(self, query: dict[str, str], body: Any, owner: str, repo: str,
               number: str) -> Reply:
        pull = self.pulls.get(int(number))
        if pull is None:
            return self.not_found()
        if len(body.get("body", "")) > GITHUB_BODY_LIMIT:
            return self._failed("body", f"body is too long (maximum is {GITHUB_BODY_LIMIT} "
                                        "characters)")
        pull.update(body)
        return 200, pull, {}

    def labels(self, query: dict[str, str], body: Any, owner: str, repo: str,
               number: str) -> Reply:
        pull = self.pulls.get(int(number))
        if pull is None:
            return self.not_found()
        pull["labels"] += [{"name": name} for name in body["labels"]]
        return 200, pull["labels"], {}

    def reviewers(self, query: dict[str, str], body: Any, owner: str, repo: str,
                  number: str) -> Reply:
        pull = self.pulls.get(int(number))
        if pull is None:
            return self.not_found()
        pull["requested_reviewers"] += [{"login": name} for name in body.get("reviewers", [])]
        return 201, pull, {}


# --- GitLab: https://docs.gitlab.com/api/merge_requests/ ----------------------------------------

GITLAB_DESCRIPTION_LIMIT = 1_048_576
GITLAB_USERS = {"alice": 7, "bob": 8}


@dataclass
class GitLabStandIn(StandIn):
    prefix: str = "/api/v4"

    def routes(self) -> list[Route]:
        mrs = r"/projects/(?P<project>[^/]+)/merge_requests"
        ids = {"type": "array", "items": {"type": "integer"}}
        labels = {"anyOf": [{"type": "string"}, _string_array()]}
        return [
            Route("GET", mrs, self.list_mrs, query=frozenset({
                "state", "source_branch", "target_branch", "per_page", "page", "labels"})),
            Route("POST", mrs, self.create, _object({
                "source_branch": {"type": "string"}, "target_branch": {"type": "string"},
                "title": {"type": "string"}, "description": {"type": "string"},
                "labels": labels, "assignee_id": {"type": "integer"}, "assignee_ids": ids,
                "reviewer_ids": ids, "target_project_id": {"type": "integer"},
                "milestone_id": {"type": "integer"}, "remove_source_branch": {"type": "boolean"},
                "squash": {"type": "boolean"}, "allow_collaboration": {"type": "boolean"},
            }, ("source_branch", "target_branch", "title"))),
            Route("PUT", mrs + r"/(?P<iid>\d+)", self.update, {**_object({
                "title": {"type": "string"}, "description": {"type": "string"},
                "target_branch": {"type": "string"}, "labels": labels,
                "add_labels": labels, "remove_labels": labels, "reviewer_ids": ids,
                "assignee_ids": ids, "state_event": {"enum": ["close", "reopen"]},
                "remove_source_branch": {"type": "boolean"}, "squash": {"type": "boolean"},
            }), "minProperties": 1}),
            Route("GET", "/users", self.users, query=frozenset({"username"})),
        ]

    def authorised(self, headers: Any) -> bool:
        return (headers.get("PRIVATE-TOKEN") == self.token
                or headers.get("Authorization") == f"Bearer {self.token}")

    def unauthorised(self) -> Reply:
        return 401, {"message": "401 Unauthorized"}, {}

    def invalid(self, reason: str) -> Reply:
        return 400, {"error": reason}, {}

    def not_found(self) -> Reply:
        return 404, {"message": "404 Not Found"}, {}

    def rate_limited(self, wait: int) -> Fault:
        return Fault(429, "Retry later\n", {"Retry-After": str(wait),
                                            "RateLimit-Remaining": "0"})

    def list_mrs(self, query: dict[str, str], body: Any, project: str) -> Reply:
        found = [m for m in self.pulls.values()
                 if m["project"] == project and m["state"] == query.get("state", "opened")
                 and query.get("source_branch") in (None, m["source_branch"])
                 and query.get("target_branch") in (None, m["target_branch"])]
        return 200, found, {}

    def create(self, query: dict[str, str], body: Any, project: str) -> Reply:
        if len(body.get("description", "")) > GITLAB_DESCRIPTION_LIMIT:
            return 400, {"message": {"description": [
                f"is too long (maximum is {GITLAB_DESCRIPTION_LIMIT} characters)"]}}, {}
        for mr in self.pulls.values():
            if (mr["project"], mr["source_branch"], mr["state"]) == (
                    project, body["source_branch"], "opened"):
                return 409, {"message": [
                    "Another open merge request already exists for this source branch: "
                    f"!{mr['iid']}"]}, {}
        iid = len(self.pulls) + 1
        labels = body.get("labels", [])
        self.pulls[iid] = {
            "iid": iid, "project": project, "state": "opened", "title": body["title"],
            "description": body.get("description"),
            "draft": body["title"].startswith(("Draft:", "[Draft]", "(Draft)")),
            "source_branch": body["source_branch"], "target_branch": body["target_branch"],
            "labels": labels.split(",") if isinstance(labels, str) else labels,
            "reviewers": [{"id": i} for i in body.get("reviewer_ids", [])],
            "web_url": f"https://gitlab.example/{project}/-/merge_requests/{iid}",
        }
        return 201, self.pulls[iid], {}

    def update(self, query: dict[str, str], body: Any, project: str, iid: str) -> Reply:
        mr = self.pulls.get(int(iid))
        if mr is None or mr["project"] != project:
            return self.not_found()
        if len(body.get("description", "")) > GITLAB_DESCRIPTION_LIMIT:
            return 400, {"message": {"description": [
                f"is too long (maximum is {GITLAB_DESCRIPTION_LIMIT} characters)"]}}, {}
        mr.update(body)
        return 200, mr, {}

    def users(self, query: dict[str, str], body: Any) -> Reply:
        name = query.get("username")
        found = [{"id": GITLAB_USERS[name], "username": name}] if name in GITLAB_USERS else []
        return 200, found, {}


# --- Gitea / Forgejo: https://gitea.com/api/swagger ---------------------------------------------

GITEA_LABELS = {"chartfix": 11, "kubernetes": 12}


@dataclass
class GiteaStandIn(StandIn):
    prefix: str = "/api/v1"

    def routes(self) -> list[Route]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        int_array = {"type": "array", "items": {"type": "integer"}}
        return [
            Route("GET", repo + "/pulls", self.list_pulls, query=frozenset({
                "state", "sort", "milestone", "labels", "poster", "page", "limit"})),
            Route("POST", repo + "/pulls", self.create, _object({
                "assignee": {"type": "string"}, "assignees": _string_array(),
                "base": {"type": "string"}, "body": {"type": "string"},
                "due_date": {"type": "string"}, "head": {"type": "string"},
                "labels": int_array, "milestone": {"type": "integer"},
                "title": {"type": "string"}, "reviewers": _string_array(),
                "team_reviewers": _string_array(),
            }, ("head", "base", "title"))),
            Route("PATCH", repo + r"/pulls/(?P<number>\d+)", self.update, _object({
                "title": {"type": "string"}, "body": {"type": "string"},
                "base": {"type": "string"}, "assignee": {"type": "string"},
                "assignees": _string_array(), "labels": int_array,
                "milestone": {"type": "integer"}, "state": {"enum": ["open", "closed"]},
                "due_date": {"type": "string"}, "unset_due_date": {"type": "boolean"},
                "allow_maintainer_edit": {"type": "boolean"},
            })),
            Route("GET", repo + "/labels", self.labels, query=frozenset({"page", "limit"})),
            Route("POST", repo + r"/pulls/(?P<number>\d+)/requested_reviewers", self.reviewers,
                  _object({"reviewers": _string_array(), "team_reviewers": _string_array()})),
        ]

    def authorised(self, headers: Any) -> bool:
        return headers.get("Authorization") in (f"token {self.token}", f"Bearer {self.token}")

    def _error(self, status: int, message: str) -> Reply:
        return status, {"message": message, "url": f"{self.api}/swagger"}, {}

    def unauthorised(self) -> Reply:
        return self._error(401, "token is required")

    def invalid(self, reason: str) -> Reply:
        return self._error(422, reason)

    def not_found(self) -> Reply:
        return 404, {"errors": None, "message": "The target couldn't be found.",
                     "url": f"{self.api}/swagger"}, {}

    def rate_limited(self, wait: int) -> Fault:
        return Fault(503, {"message": "Service Unavailable", "url": f"{self.api}/swagger"},
                     {"Retry-After": str(wait)})

    def list_pulls(self, query: dict[str, str], body: Any, owner: str, repo: str) -> Reply:
        found = [p for p in self.pulls.values()
                 if p["repo"] == f"{owner}/{repo}" and p["state"] == query.get("state", "open")]
        limit, page = int(query.get("limit", "30")), int(query.get("page", "1"))
        return 200, found[(page - 1) * limit: page * limit], {}

    def create(self, query: dict[str, str], body: Any, owner: str, repo: str) -> Reply:
        for pull in self.pulls.values():
            if (pull["repo"], pull["head"]["ref"], pull["base"]["ref"], pull["state"]) == (
                    f"{owner}/{repo}", body["head"], body["base"], "open"):
                return self._error(409, "pull request already exists for these targets "
                                        f"[id: {pull['number']}, head_branch: {body['head']}, "
                                        f"base_branch: {body['base']}]")
        unknown = [i for i in body.get("labels", []) if i not in GITEA_LABELS.values()]
        if unknown:
            return self._error(422, f"label does not exist [label_id: {unknown[0]}]")
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "number": number, "repo": f"{owner}/{repo}", "state": "open",
            "title": body["title"],
            "body": body.get("body", ""), "draft": body["title"].startswith("WIP:"),
            "html_url": f"https://gitea.example/{owner}/{repo}/pulls/{number}",
            "head": {"ref": body["head"]}, "base": {"ref": body["base"]},
            "labels": [{"id": i} for i in body.get("labels", [])], "requested_reviewers": [],
        }
        return 201, self.pulls[number], {}

    def update(self, query: dict[str, str], body: Any, owner: str, repo: str,
               number: str) -> Reply:
        pull = self.pulls.get(int(number))
        if pull is None:
            return self.not_found()
        pull.update(body)
        return 201, pull, {}

    def labels(self, query: dict[str, str], body: Any, owner: str, repo: str) -> Reply:
        return 200, [{"id": i, "name": n, "color": "00aabb"} for n, i in GITEA_LABELS.items()], {}

    def reviewers(self, query: dict[str, str], body: Any, owner: str, repo: str,
                  number: str) -> Reply:
        pull = self.pulls.get(int(number))
        if pull is None:
            return self.not_found()
        pull["requested_reviewers"] += [{"login": r} for r in body.get("reviewers", [])]
        return 201, [{"id": 1, "state": "REQUEST_REVIEW"}], {}


# --- Bitbucket Cloud: https://developer.atlassian.com/cloud/bitbucket/rest/ -------------------


@dataclass
class BitbucketStandIn(StandIn):
    prefix: str = "/2.0"

    def routes(self) -> list[Route]:
        pulls = r"/repositories/(?P<workspace>[^/]+)/(?P<slug>[^/]+)/pullrequests"
        branch = _object({"branch": _object({"name": {"type": "string"}}, ("name",))},
                         ("branch",))
        reviewer = {"anyOf": [_object({"uuid": {"type": "string"}}, ("uuid",)),
                              _object({"account_id": {"type": "string"}}, ("account_id",))]}
        fields = {
            "title": {"type": "string"}, "description": {"type": "string"},
            "summary": _object({"raw": {"type": "string"}}),
            "source": branch, "destination": branch,
            "reviewers": {"type": "array", "items": reviewer},
            "close_source_branch": {"type": "boolean"}, "draft": {"type": "boolean"},
        }
        return [
            Route("GET", pulls, self.list_pulls,
                  query=frozenset({"q", "state", "page", "pagelen", "fields", "sort"})),
            Route("POST", pulls, self.create, _object(fields, ("title", "source"))),
            Route("PUT", pulls + r"/(?P<number>\d+)", self.update, _object(fields)),
        ]

    def authorised(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Bearer {self.token}"

    def _error(self, status: int, message: str, **extra: Any) -> Reply:
        return status, {"type": "error", "error": {"message": message, **extra}}, {}

    def unauthorised(self) -> Reply:
        return self._error(401, "Access token expired or invalid.")

    def invalid(self, reason: str) -> Reply:
        return self._error(400, "Bad request", detail=reason)

    def not_found(self) -> Reply:
        return self._error(404, "Resource not found")

    def rate_limited(self, wait: int) -> Fault:
        return Fault(429, {"type": "error",
                           "error": {"message": "Rate limit for this resource has been exceeded"}},
                     {"Retry-After": str(wait)})

    def list_pulls(self, query: dict[str, str], body: Any, workspace: str, slug: str) -> Reply:
        terms = dict(re.findall(r'([\w.]+)="([^"]*)"', query.get("q", "")))
        found = [p for p in self.pulls.values()
                 if p["repo"] == f"{workspace}/{slug}"
                 and terms.get("source.branch.name") in (None, p["source"]["branch"]["name"])
                 and terms.get("destination.branch.name") in (
                     None, p["destination"]["branch"]["name"])
                 and terms.get("state", "OPEN") == p["state"]]
        return 200, {"values": found, "pagelen": 10, "size": len(found), "page": 1}, {}

    def create(self, query: dict[str, str], body: Any, workspace: str, slug: str) -> Reply:
        source = body["source"]["branch"]["name"]
        for pull in self.pulls.values():
            if (pull["repo"], pull["source"]["branch"]["name"], pull["state"]) == (
                    f"{workspace}/{slug}", source, "OPEN"):
                return self._error(400, "Bad request", fields={"source": [
                    f"There is already an open pull request from {source}"]})
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "id": number, "repo": f"{workspace}/{slug}", "type": "pullrequest",
            "state": "OPEN", "title": body["title"],
            "description": body.get("description", ""), "draft": body.get("draft", False),
            "source": body["source"],
            "destination": body.get("destination", {"branch": {"name": "main"}}),
            "reviewers": body.get("reviewers", []),
            "links": {"html": {"href":
                      f"https://bitbucket.example/{workspace}/{slug}/pull-requests/{number}"}},
        }
        return 201, self.pulls[number], {}

    def update(self, query: dict[str, str], body: Any, workspace: str, slug: str,
               number: str) -> Reply:
        pull = self.pulls.get(int(number))
        if pull is None:
            return self.not_found()
        pull.update(body)
        return 200, pull, {}


STANDINS: dict[str, type[StandIn]] = {
    "github": GitHubStandIn, "gitlab": GitLabStandIn, "gitea": GiteaStandIn,
    "bitbucket": BitbucketStandIn,
}
