"""Bitbucket Cloud: REST API 2.0, pull requests.

https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/ (create, list
with a `q` query, update); drafts are a flag; reviewers are account ids or `{uuid}`s;
Bitbucket Cloud has no labels.
"""

from __future__ import annotations

from typing import Any

from chartfix.publish.forge.base import Forge, Proposal, PullRequest


class Bitbucket(Forge):
    name = "bitbucket"
    title = "Bitbucket Cloud"
    tokens = ("BITBUCKET_TOKEN",)
    body_limit = 50_000
    """Bitbucket documents no limit; Renovate's bound for Bitbucket Cloud."""

    @classmethod
    def auth(cls, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def reason(status: int, said: Any) -> str:
        """`{"type": "error", "error": {"message": ..., "detail": ..., "fields": {...}}}`."""
        if not isinstance(said, dict) or not isinstance(said.get("error"), dict):
            return str(said)
        error = said["error"]
        parts = [str(error.get("message", ""))]
        if error.get("detail"):
            parts.append(str(error["detail"]))
        for field_name, problems in (error.get("fields") or {}).items():
            parts.append(f"{field_name}: {' '.join(map(str, problems))}")
        return "; ".join(p for p in parts if p)

    @property
    def _base(self) -> str:
        return f"/repositories/{self.project}/pullrequests"

    def find(self, proposal: Proposal) -> PullRequest | None:
        query = (f'source.branch.name="{proposal.branch}" AND '
                 f'destination.branch.name="{proposal.base}" AND state="OPEN"')
        found = self.http.call("GET", self._base, query={"q": query})
        values = (found or {}).get("values") or []
        return _pull(values[0]) if values else None

    def open(self, proposal: Proposal) -> tuple[PullRequest, list[str]]:
        request: dict[str, Any] = {
            "title": proposal.title, "description": proposal.body,
            "source": {"branch": {"name": proposal.branch}},
            "destination": {"branch": {"name": proposal.base}},
            "draft": proposal.draft,
        }
        if proposal.reviewers:
            request["reviewers"] = [
                {"uuid": r} if r.startswith("{") else {"account_id": r}
                for r in proposal.reviewers
            ]
        notes = ["Bitbucket Cloud has no labels: --label not set"] if proposal.labels else []
        return _pull(self.http.call("POST", self._base, request)), notes

    def update(self, pull: PullRequest, proposal: Proposal) -> PullRequest:
        return _pull(self.http.call("PUT", f"{self._base}/{pull.number}",
                                    {"title": proposal.title, "description": proposal.body}))


def _pull(data: dict[str, Any]) -> PullRequest:
    return PullRequest(int(data["id"]), str(data["links"]["html"]["href"]),
                       str(data.get("title") or ""), str(data.get("description") or ""))
