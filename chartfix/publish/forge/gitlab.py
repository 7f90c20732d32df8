"""GitLab (gitlab.com and self-managed): REST API v4, merge requests.

https://docs.gitlab.com/api/merge_requests/ (create, list, update); a draft is a title that
starts with `Draft:`; reviewers are user ids, looked up by username (`GET /users`).
"""

from __future__ import annotations

from typing import Any

from chartfix.publish.forge.base import Forge, Proposal, PullRequest, quoted


class GitLab(Forge):
    name = "gitlab"
    title = "GitLab"
    tokens = ("GITLAB_TOKEN",)
    body_limit = 1_000_000
    """GitLab keeps descriptions up to about a megabyte (1,048,576); a round figure under it."""
    draft_prefix = "Draft: "

    @classmethod
    def auth(cls, token: str) -> dict[str, str]:
        return {"PRIVATE-TOKEN": token}

    @staticmethod
    def reason(status: int, said: Any) -> str:
        """`{"message": "..." | ["..."] | {"field": ["..."]}}` or `{"error": "..."}`."""
        if not isinstance(said, dict):
            return str(said)
        message = said.get("message", said.get("error", ""))
        if isinstance(message, dict):
            return "; ".join(f"{key} {_words(value)}" for key, value in message.items())
        if isinstance(message, list):
            return "; ".join(map(str, message))
        return str(message)

    @property
    def _base(self) -> str:
        return f"/projects/{quoted(self.project)}/merge_requests"

    def find(self, proposal: Proposal) -> PullRequest | None:
        found = self.http.call("GET", self._base, query={
            "state": "opened", "source_branch": proposal.branch,
            "target_branch": proposal.base,
        })
        return _pull(found[0]) if found else None

    def open(self, proposal: Proposal) -> tuple[PullRequest, list[str]]:
        notes = []
        ids = []
        for name in proposal.reviewers:
            users = self.http.call("GET", "/users", query={"username": name})
            if users:
                ids.append(int(users[0]["id"]))
            else:
                notes.append(f"reviewer {name}: no such GitLab user, not asked")
        request: dict[str, Any] = {
            "source_branch": proposal.branch, "target_branch": proposal.base,
            "title": self.title_of(proposal), "description": proposal.body,
        }
        if proposal.labels:
            request["labels"] = ",".join(proposal.labels)
        if ids:
            request["reviewer_ids"] = ids
        return _pull(self.http.call("POST", self._base, request)), notes

    def update(self, pull: PullRequest, proposal: Proposal) -> PullRequest:
        return _pull(self.http.call("PUT", f"{self._base}/{pull.number}", {
            "title": self.title_of(proposal), "description": proposal.body,
        }))


def _words(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _pull(data: dict[str, Any]) -> PullRequest:
    return PullRequest(int(data["iid"]), str(data["web_url"]), str(data.get("title") or ""),
                       str(data.get("description") or ""))
