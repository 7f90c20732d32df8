"""GitHub (and GitHub Enterprise Server): REST API v3, `X-GitHub-Api-Version: 2022-11-28`.

Pulls: https://docs.github.com/en/rest/pulls/pulls (create, list, update); labels go through
the issue of the same number, reviewers through `requested_reviewers`.
"""

from __future__ import annotations

from typing import Any

from chartfix.publish.forge.base import Forge, Proposal, PullRequest


class GitHub(Forge):
    name = "github"
    title = "GitHub"
    tokens = ("GITHUB_TOKEN", "GH_TOKEN")
    body_limit = 65536
    """The API refuses more: `body is too long (maximum is 65536 characters)`."""

    @classmethod
    def auth(cls, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    @staticmethod
    def reason(status: int, said: Any) -> str:
        """`{"message": ..., "errors": [{"message"} | {"resource", "field", "code"}]}`."""
        if not isinstance(said, dict):
            return str(said)
        details = [
            e.get("message") or " ".join(str(e.get(k, "")) for k in ("field", "code")).strip()
            if isinstance(e, dict) else str(e)
            for e in said.get("errors") or []
        ]
        return "; ".join([str(said.get("message", "")), *details]).strip("; ")

    def find(self, proposal: Proposal) -> PullRequest | None:
        owner = self.project.split("/", 1)[0]
        found = self.http.call("GET", f"/repos/{self.project}/pulls", query={
            "state": "open", "head": f"{owner}:{proposal.branch}", "base": proposal.base,
        })
        return _pull(found[0]) if found else None

    def open(self, proposal: Proposal) -> tuple[PullRequest, list[str]]:
        made = self.http.call("POST", f"/repos/{self.project}/pulls", {
            "title": proposal.title, "head": proposal.branch, "base": proposal.base,
            "body": proposal.body, "draft": proposal.draft,
        })
        pull = _pull(made)
        if proposal.labels:
            self.http.call("POST", f"/repos/{self.project}/issues/{pull.number}/labels",
                           {"labels": list(proposal.labels)})
        if proposal.reviewers:
            self.http.call("POST", f"/repos/{self.project}/pulls/{pull.number}/requested_reviewers",
                           {"reviewers": list(proposal.reviewers)})
        return pull, []

    def update(self, pull: PullRequest, proposal: Proposal) -> PullRequest:
        return _pull(self.http.call("PATCH", f"/repos/{self.project}/pulls/{pull.number}",
                                    {"title": proposal.title, "body": proposal.body}))


def _pull(data: dict[str, Any]) -> PullRequest:
    return PullRequest(int(data["number"]), str(data["html_url"]), str(data.get("title") or ""),
                       str(data.get("body") or ""))
