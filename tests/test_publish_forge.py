"""Pull requests on each forge, against a local stand-in of its REST API (no forge runs
here: `forge_standins.py` answers as each forge's API reference documents it, error shapes
included, and checks every request against the forge's published request shapes)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
from forge_standins import STANDINS, TOKEN, StandIn, serving

from chartfix.publish.forge import FORGES, Forge, ForgeError, Proposal, ensure, forge_for
from chartfix.publish.forge.base import LONGEST_WAIT

KINDS = sorted(FORGES)
PROJECT = {"github": "acme/charts", "gitlab": "acme/platform/charts", "gitea": "acme/charts",
           "bitbucket": "acme/charts"}


@pytest.fixture(params=KINDS)
def standin(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    with serving(STANDINS[request.param]()) as running:
        running.kind = request.param  # type: ignore[attr-defined]
        yield running
    assert running.malformed == [], "every request chartfix sent has the forge's shape"


def connect(standin: StandIn, token: str = TOKEN) -> Forge:
    kind = standin.kind  # type: ignore[attr-defined]
    env = {FORGES[kind].tokens[0]: token}
    forge = forge_for(f"https://forge.example/{PROJECT[kind]}.git", kind, standin.api, env)
    forge.http.sleep = lambda seconds: None  # waits are asserted, not slept
    return forge


def proposal(body: str = "## Summary\n\n| chart | findings |\n") -> Proposal:
    return Proposal("chartfix/selectors", "main", "Fix label selectors in 2 charts", body,
                    draft=True, labels=("chartfix",), reviewers=("alice",))


def test_open_then_a_rerun_with_nothing_new_writes_nothing(standin: StandIn) -> None:
    forge = connect(standin)
    opened = ensure(forge, proposal())
    assert opened.state == "opened"
    assert opened.pull.url.startswith("https://") and str(opened.pull.number) in opened.pull.url
    [pull] = standin.pulls.values()
    assert pull.get("body", pull.get("description")) == proposal().body
    assert pull["draft"] is True, "a draft on every forge (a flag or the title's prefix)"
    writes = len(standin.writes())

    again = ensure(forge, proposal())
    assert (again.state, again.pull.number) == ("unchanged", opened.pull.number)
    assert len(standin.writes()) == writes, "nothing written on a re-run with nothing new"


def test_a_new_body_updates_the_same_pull_request(standin: StandIn) -> None:
    forge = connect(standin)
    first = ensure(forge, proposal())
    updated = ensure(forge, proposal("## Summary\n\nbuilt on a newer main\n"))
    assert (updated.state, updated.pull.number) == ("updated", first.pull.number)
    [pull] = standin.pulls.values()
    assert pull.get("body", pull.get("description")) == "## Summary\n\nbuilt on a newer main\n"


def test_labels_and_reviewers_reach_the_forge_or_are_said_not_to(standin: StandIn) -> None:
    opened = ensure(connect(standin), proposal())
    [pull] = standin.pulls.values()
    kind = standin.kind  # type: ignore[attr-defined]
    if kind == "bitbucket":
        assert opened.notes == ("Bitbucket Cloud has no labels: --label not set",)
        assert pull["reviewers"] == [{"account_id": "alice"}]
    else:
        assert opened.notes == ()
        assert pull["labels"] in ([{"name": "chartfix"}], ["chartfix"], [{"id": 11}])
        assert pull.get("requested_reviewers") or pull.get("reviewers")


def test_a_refused_token_is_one_line_without_the_token(standin: StandIn) -> None:
    forge = connect(standin, token="wrong-token-123")
    with pytest.raises(ForgeError) as refused:
        ensure(forge, proposal())
    message = str(refused.value)
    assert "the token was refused (401" in message, message
    assert "wrong-token-123" not in message and TOKEN not in message
    assert standin.pulls == {}


def test_a_rate_limit_is_waited_out_within_bounds(standin: StandIn) -> None:
    forge = connect(standin)
    waits: list[float] = []
    forge.http.sleep = waits.append
    standin.fail_next(standin.rate_limited(2), times=2)
    assert ensure(forge, proposal()).state == "opened"
    assert len(waits) == 2 and all(0 <= w <= 2 for w in waits), waits


def test_a_rate_limit_longer_than_chartfix_waits_fails_with_the_forges_reason(
    standin: StandIn,
) -> None:
    forge = connect(standin)
    standin.fail_next(standin.rate_limited(int(LONGEST_WAIT) * 60))
    with pytest.raises(ForgeError) as refused:
        ensure(forge, proposal())
    assert re.search(r", and the forge asks to wait 3[56]\d\ds, longer than chartfix waits "
                     r"\(60s\): \S", str(refused.value)), refused.value  # GitHub: a reset time
    assert len(standin.requests) == 1 and standin.pulls == {}


def test_server_errors_are_retried_a_bounded_number_of_times(standin: StandIn) -> None:
    forge = connect(standin)
    standin.fail_next(standin.rate_limited(0).__class__(502, "Bad Gateway", {}), times=10)
    with pytest.raises(ForgeError, match=r"still 502 after 5 tries"):
        ensure(forge, proposal())
    assert len(standin.requests) == 5


def test_a_body_over_the_forges_limit_is_refused_before_any_call(standin: StandIn) -> None:
    forge = connect(standin)
    long = "x" * (forge.body_limit + 1)
    with pytest.raises(ForgeError, match=rf"the description has {len(long)} characters; .* "
                                         rf"takes at most {forge.body_limit}"):
        ensure(forge, proposal(long))
    assert standin.requests == []


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_stand_in_refuses_a_body_over_the_limit_as_the_forge_does(kind: str) -> None:
    """What chartfix would meet if it sent one: the forge's own error, made one line."""
    with serving(STANDINS[kind]()) as standin:
        standin.kind = kind  # type: ignore[attr-defined]
        forge = connect(standin)
        forge.body_limit = 10**9  # send it anyway
        with pytest.raises(ForgeError, match=r"(body|description) is too long \(maximum is"):
            ensure(forge, proposal("y" * 1_100_000))


def test_the_stand_in_refuses_a_malformed_request(standin: StandIn) -> None:
    """The stand-in's check can fail: a create without its required fields (and with a
    misspelt key) is answered with the forge's validation error."""
    forge = connect(standin)
    path = {"github": "/repos/acme/charts/pulls",
            "gitlab": "/projects/acme%2Fplatform%2Fcharts/merge_requests",
            "gitea": "/repos/acme/charts/pulls",
            "bitbucket": "/repositories/acme/charts/pullrequests"}[standin.kind]  # type: ignore[attr-defined]
    with pytest.raises(ForgeError) as refused:
        forge.http.call("POST", path, {"titel": "typo"})
    assert str(refused.value).startswith(f"POST {path}: ")
    assert len(standin.malformed) == 1
    standin.malformed.clear()  # expected here; the fixture checks the others


def test_an_unknown_route_is_refused() -> None:
    with serving(STANDINS["github"]()) as standin:
        request = urllib.request.Request(standin.api + "/repos/a/b/pull", method="GET",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=10)
        assert missing.value.code == 404
        assert json.loads(missing.value.read())["message"] == "Not Found"
        assert standin.malformed == ["GET /repos/a/b/pull: no such route"]


# --- which forge, which project, which token ----------------------------------------------------


@pytest.mark.parametrize(("url", "kind", "project", "api"), [
    ("https://github.com/acme/charts.git", "github", "acme/charts", "https://api.github.com"),
    ("git@github.com:acme/charts.git", "github", "acme/charts", "https://api.github.com"),
    ("https://gitlab.com/acme/platform/charts.git", "gitlab", "acme/platform/charts",
     "https://gitlab.com/api/v4"),
    ("ssh://git@gitlab.com:22/acme/platform/charts", "gitlab", "acme/platform/charts",
     "https://gitlab.com/api/v4"),
    ("https://codeberg.org/acme/charts", "gitea", "acme/charts", "https://codeberg.org/api/v1"),
    ("git@bitbucket.org:acme/charts.git", "bitbucket", "acme/charts",
     "https://api.bitbucket.org/2.0"),
])
def test_the_forge_project_and_api_come_from_the_remote_url(
    url: str, kind: str, project: str, api: str
) -> None:
    forge = forge_for(url, env={name: "t" for f in FORGES.values() for name in f.tokens})
    assert (forge.name, forge.project, forge.http.api) == (kind, project, api)


def test_a_self_hosted_forge_is_named_and_its_api_given() -> None:
    env = {"GITEA_TOKEN": "t"}
    with pytest.raises(ForgeError, match=r"cannot tell which forge git\.corp\.example is: give "
                                         r"--forge github\|gitlab\|gitea\|bitbucket"):
        forge_for("https://git.corp.example/acme/charts.git", env=env)
    forge = forge_for("https://git.corp.example/acme/charts.git", "gitea", env=env)
    assert forge.http.api == "https://git.corp.example/api/v1"
    forge = forge_for("git@github.corp.example:acme/charts.git", "github",
                      env={"GH_TOKEN": "t"})
    assert forge.http.api == "https://github.corp.example/api/v3", "GitHub Enterprise Server"


def test_a_missing_token_names_the_variables() -> None:
    with pytest.raises(ForgeError, match=r"^no token for GitHub: set GITHUB_TOKEN or GH_TOKEN$"):
        forge_for("https://github.com/acme/charts", env={})
    assert forge_for("https://github.com/a/b", env={"GH_TOKEN": "x"}).name == "github"


def test_a_local_remote_needs_the_api_and_names_owner_and_repository() -> None:
    with pytest.raises(ForgeError, match="names no host: give --forge-api URL"):
        forge_for("/srv/git/acme/charts.git", "github", env={"GH_TOKEN": "t"})
    forge = forge_for("/srv/git/acme/charts.git", "github", "http://127.0.0.1:1",
                      env={"GH_TOKEN": "t"})
    assert forge.project == "acme/charts"
