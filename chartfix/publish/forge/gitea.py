"""Gitea and Forgejo (Codeberg): REST API v1, pull requests.

https://gitea.com/api/swagger (CreatePullRequestOption, EditPullRequestOption); labels are
ids, looked up by name; a draft is a title that starts with `WIP:`.
"""

from __future__ import annotations

from typing import Any

from chartfix.publish.forge.base import Forge, Proposal, PullRequest

PAGES = 20
"""Pages of 50 open pull requests read at most to find the branch's."""


class Gitea(Forge):
    name = "gitea"
    title = "Gitea"
    tokens = ("GITEA_TOKEN", "FORGEJO_TOKEN")
    body_limit = 1_000_000
    """Gitea stores descriptions as long text and documents no limit; Renovate's bound."""
    draft_prefix = "WIP: "

    @classmethod
    def auth(cls, token: str) -> dict[str, str]:
        return {"Authorization": f"token {token}"}

    @staticmethod
    def reason(status: int, said: Any) -> str:
        """APIError and APIValidationError: `{"message": ..., "url": ...}`."""
        return str(said.get("message", "")) if isinstance(said, dict) else str(said)

    def find(self, proposal: Proposal) -> PullRequest | None:
        for page in range(1, PAGES + 1):
            found = self.http.call("GET", f"/repos/{self.project}/pulls", query={
                "state": "open", "page": str(page), "limit": "50",
            })
            for data in found or []:
                refs = (data["head"]["ref"], data["base"]["ref"])
                if refs == (proposal.branch, proposal.base):
                    return _pull(data)
            if len(found or []) < 50:
                return None
        return None

    def open(self, proposal: Proposal) -> tuple[PullRequest, list[str]]:
        notes = []
        request: dict[str, Any] = {
            "head": proposal.branch, "base": proposal.base, "title": self.title_of(proposal),
            "body": proposal.body,
        }
        if proposal.labels:
            known = {label["name"]: int(label["id"]) for label in
                     self.http.call("GET", f"/repos/{self.project}/labels") or []}
            request["labels"] = [known[name] for name in proposal.labels if name in known]
            notes += [f"label {name}: not in the repository, not set"
                      for name in proposal.labels if name not in known]
        pull = _pull(self.http.call("POST", f"/repos/{self.project}/pulls", request))
        if proposal.reviewers:
            self.http.call("POST", f"/repos/{self.project}/pulls/{pull.number}/requested_reviewers",
                           {"reviewers": list(proposal.reviewers)})
        return pull, notes

    def update(self, pull: PullRequest, proposal: Proposal) -> PullRequest:
        return _pull(self.http.call("PATCH", f"/repos/{self.project}/pulls/{pull.number}",
                                    {"title": self.title_of(proposal), "body": proposal.body}))


def _pull(data: dict[str, Any]) -> PullRequest:
    return PullRequest(int(data["number"]), str(data["html_url"]), str(data.get("title") or ""),
                       str(data.get("body") or ""))
