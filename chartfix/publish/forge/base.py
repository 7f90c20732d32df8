"""What every forge shares: the pull request asked for, the one found or made, and the HTTP
calls that carry them, retried when the forge says "later".

Plain HTTP with the standard library (urllib), not one client library per forge: each forge
needs four or five JSON calls, the well-kept clients (PyGithub, python-gitlab...) cover one
forge each and retry in their own ways, and one small caller here gives every forge the same
retry rule, the same error line and the same promise that the token is never printed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Literal

RETRIED = frozenset({429, 500, 502, 503, 504})
"""Statuses that mean "try again later" on every forge (rate limit, server trouble)."""
ATTEMPTS = 5
"""Calls per request at most: the first and four retries."""
LONGEST_WAIT = 60.0
"""Seconds chartfix waits for a forge at most, per retry; a forge that asks for longer (a
rate limit that resets in an hour) fails the repository with its reason instead."""
TIMEOUT = 60.0
"""Seconds one HTTP call may take."""


class ForgeError(Exception):
    """A forge refused or failed: one line, the forge's own reason, never the token."""


@dataclass(frozen=True)
class Proposal:
    """The pull request chartfix wants for a branch."""

    branch: str
    base: str
    title: str
    body: str
    draft: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullRequest:
    """A pull (merge) request as the forge holds it."""

    number: int
    url: str
    title: str
    body: str


PrState = Literal["opened", "updated", "unchanged"]


@dataclass(frozen=True)
class Outcome:
    """What `ensure` did: the pull request, and opened, updated or left unchanged."""

    pull: PullRequest
    state: PrState
    notes: tuple[str, ...] = ()


@dataclass
class Http:
    """JSON calls to one forge's API with its credentials, retried on rate limits and server
    errors (bounded: ATTEMPTS calls, each wait at most LONGEST_WAIT seconds)."""

    api: str
    headers: Mapping[str, str] = field(repr=False)
    reason: Callable[[int, Any], str]
    """The forge's error body (parsed JSON, or text) made one line."""
    secret: str = field(repr=False, default="")
    sleep: Callable[[float], None] = time.sleep
    backoff: float = 1.0
    """Seconds before the first retry when the forge does not say (doubled each time)."""

    def call(
        self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
    ) -> Any:
        url = self.api.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(1, ATTEMPTS + 1):
            request = urllib.request.Request(url, data=data, method=method)
            for key, value in {"Accept": "application/json", "User-Agent": "chartfix",
                               **self.headers}.items():
                request.add_header(key, value)
            if data is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    text = response.read().decode("utf-8", "replace")
                    return json.loads(text) if text.strip() else None
            except urllib.error.HTTPError as err:
                text = err.read().decode("utf-8", "replace")
                wait = self._wait(err.code, err.headers, attempt)
                if wait is None or attempt == ATTEMPTS:
                    said = self._refusal(err.code, text, err.headers, attempt)
                    raise ForgeError(self._hide(f"{method} {path}: {said}")) from None
            except (urllib.error.URLError, OSError) as err:
                wait = self.backoff * 2 ** (attempt - 1)
                if attempt == ATTEMPTS:
                    reason = getattr(err, "reason", err)
                    raise ForgeError(self._hide(f"{method} {url}: {reason}")) from None
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _wait(self, status: int, headers: Message, attempt: int) -> float | None:
        """Seconds to wait before calling again, or None: do not."""
        limited = status in RETRIED or (status == 403 and _rate_limited(headers))
        if not limited:
            return None
        said = _retry_after(headers)
        wait = said if said is not None else self.backoff * 2 ** (attempt - 1)
        return wait if wait <= LONGEST_WAIT else None

    def _refusal(self, status: int, text: str, headers: Message, attempt: int) -> str:
        """The forge's reason, and why chartfix stopped asking."""
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = " ".join(text.split())[:200]
        reason = self.reason(status, parsed) or f"HTTP {status}"
        limited = status in RETRIED or _rate_limited(headers)
        if status in (401, 403) and not limited:
            return f"the token was refused ({status}: {reason})"
        if limited and attempt < ATTEMPTS:
            asked = _retry_after(headers) or 0.0
            return (f"{status}, and the forge asks to wait {asked:.0f}s, longer than chartfix "
                    f"waits ({LONGEST_WAIT:.0f}s): {reason}")
        if limited:
            return f"still {status} after {ATTEMPTS} tries: {reason}"
        return f"{status}: {reason}"

    def _hide(self, text: str) -> str:
        return text.replace(self.secret, "***") if self.secret else text


def _rate_limited(headers: Message) -> bool:
    """GitHub's primary limit: 403 with no request left; its secondary: retry-after."""
    return headers.get("x-ratelimit-remaining") == "0" or headers.get("retry-after") is not None


def _retry_after(headers: Message) -> float | None:
    """Seconds the forge asks to wait: Retry-After, or until GitHub's/GitLab's reset time."""
    said = headers.get("retry-after")
    if said is not None and said.strip().isdigit():
        return float(said)
    reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if reset is not None and reset.strip().isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def quoted(text: str) -> str:
    """One path segment (a GitLab project path, a branch) as a URL carries it."""
    return urllib.parse.quote(text, safe="")


def same_text(one: str, other: str) -> bool:
    """Equal as a forge shows them (forges may store CRLF, trim the end)."""
    return one.replace("\r\n", "\n").strip() == other.replace("\r\n", "\n").strip()


class Forge:
    """One forge's pull requests for one repository (`project`: `owner/name`, a GitLab
    `group/sub/name`, a Bitbucket `workspace/slug`)."""

    name = ""
    """As --forge names it."""
    title = ""
    """As people call it, for messages."""
    tokens: tuple[str, ...] = ()
    """Environment variables holding a token, the first set wins."""
    body_limit = 0
    """The longest description the forge takes, in characters."""
    draft_prefix = ""
    """How a draft is marked where the API has no draft flag (a title prefix)."""

    def __init__(self, http: Http, project: str) -> None:
        self.http = http
        self.project = project

    @classmethod
    def auth(cls, token: str) -> dict[str, str]:
        raise NotImplementedError

    @staticmethod
    def reason(status: int, said: Any) -> str:
        raise NotImplementedError

    def find(self, proposal: Proposal) -> PullRequest | None:
        raise NotImplementedError

    def open(self, proposal: Proposal) -> tuple[PullRequest, list[str]]:
        raise NotImplementedError

    def update(self, pull: PullRequest, proposal: Proposal) -> PullRequest:
        raise NotImplementedError

    def title_of(self, proposal: Proposal) -> str:
        if proposal.draft and self.draft_prefix:
            return self.draft_prefix + proposal.title
        return proposal.title


def ensure(forge: Forge, proposal: Proposal) -> Outcome:
    """The branch's open pull request, opened when there is none, its title and body updated
    when they differ from the proposal, else left alone."""
    if len(proposal.body) > forge.body_limit:
        raise ForgeError(
            f"the description has {len(proposal.body)} characters; {forge.title} takes at "
            f"most {forge.body_limit}"
        )
    found = forge.find(proposal)
    if found is None:
        pull, notes = forge.open(proposal)
        return Outcome(pull, "opened", tuple(notes))
    if same_text(found.title, forge.title_of(proposal)) and same_text(found.body, proposal.body):
        return Outcome(found, "unchanged")
    return Outcome(forge.update(found, proposal), "updated")
