"""Every route that takes a ``youth_id`` is tried as an unrelated worker: none may show the youth.

The routes are found by walking the whole URL tree (pages and ``/api/v1/``), so a route added
tomorrow is tried without anyone remembering to list it here. The walker must find at least the
routes known today, so it cannot pass by finding nothing.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.authtoken.models import Token

from safeharbor.core.tests.personas import World, verified_client
from safeharbor.youth.models import ConsentToShare
from safeharbor.youth.services import consent_grant, note_add

# The routes with a youth_id today; the walker must find every one of them (and may find more).
KNOWN_ROUTES = {
    "youth:detail",
    "youth:consent_new",
    "youth:consent_revoke",
    "youth:consent_form",
    "youth:note_new",
    "youth:care_team_new",
    "youth:access_log",
    "youth:break_glass",
    "api:youth-detail",
    "api:youth-consents",
}
# Routes any youth worker may open for any record, because they show nothing about it: the
# break-glass request form. Every other youth_id route must refuse an unrelated worker.
OPEN_TO_ANY_WORKER = {"youth:break_glass"}
GENERAL_NOTE = "Kestrel placement discussed"
CLINICAL_NOTE = "Wrenfield assessment scheduled"
SIGNED_FORM = b"%PDF-1.4 consent signed by Maya Quillfeather"

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route text when the pattern has no name
    pieces: tuple[Any, ...]  # the RoutePattern / RegexPattern of each level, outermost first
    params: frozenset[str]

    @property
    def is_api(self) -> bool:
        return self.path_template().startswith("/api/")

    def path_template(self) -> str:
        return "/" + "".join(str(piece) for piece in self.pieces).replace("^", "").replace("$", "")

    def path(self, values: dict[str, Any]) -> str:
        parts = []
        for piece in self.pieces:
            if isinstance(piece, RoutePattern):
                parts.append(_fill_route(piece, values))
            elif isinstance(piece, RegexPattern) and not piece.regex.groupindex:
                text = str(piece).lstrip("^").rstrip("$")
                if re.escape(text).replace("\\/", "/").replace("\\-", "-") != text:
                    pytest.fail(f"Cannot build a URL from the regular expression {piece!s}")
                parts.append(text)
            else:
                pytest.fail(f"Cannot build a URL for {self.name}: teach this walker {piece!r}")
        return "/" + "".join(parts)


def _fill_route(piece: RoutePattern, values: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        return str(piece.converters[match["name"]].to_url(values[match["name"]]))

    return _ROUTE_PARAM.sub(value, str(piece))


def _params(piece: Any) -> set[str]:
    if isinstance(piece, RoutePattern):
        return set(piece.converters)
    if isinstance(piece, RegexPattern):
        return set(piece.regex.groupindex)
    return set()


def walk(patterns: list[Any], pieces: tuple[Any, ...] = (), namespace: str = "") -> Iterator[Route]:
    """Every URL pattern under ``patterns``, with the pattern of each level that leads to it."""
    for entry in patterns:
        here = (*pieces, entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, here, inner)
        elif isinstance(entry, URLPattern):
            params = frozenset(set().union(*(_params(piece) for piece in here)))
            name = f"{namespace}{entry.name}" if entry.name else "".join(map(str, here))
            yield Route(name=name, pieces=here, params=params)


def youth_routes() -> list[Route]:
    return [route for route in walk(get_resolver().url_patterns) if "youth_id" in route.params]


ROUTES = youth_routes()


def test_the_walker_finds_every_known_youth_route() -> None:
    found = {route.name for route in ROUTES}
    missing = KNOWN_ROUTES - found
    assert not missing, f"the URL walker no longer finds {sorted(missing)}"
    assert any(route.is_api for route in ROUTES)
    assert any(not route.is_api for route in ROUTES)


@pytest.fixture
def maya_record(world: World) -> dict[str, Any]:
    """Maya's record with something in every category, and the values that must not leak."""
    note_add(actor=world.county_caseworker, youth=world.maya, kind="general", body=GENERAL_NOTE)
    consent = consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["identity", "notes"],
        purpose="Follow-up care",
        valid_from=datetime.date(2020, 1, 1),
        expires_on=datetime.date(2099, 12, 31),
        signed_form=SIGNED_FORM,
        signed_form_name="consent.pdf",
        signed_form_type="application/pdf",
    )
    return {
        "values": _values(world, consent),
        "identifiers": [
            world.maya.given_name,
            world.maya.family_name,
            world.maya.phone,
            world.maya.record_number,
            "Imaginary Lane",
            GENERAL_NOTE,
        ],
    }


def _values(world: World, consent: ConsentToShare) -> dict[str, Any]:
    """A real value for each parameter a youth route may take."""
    return {"youth_id": world.maya.pk, "consent_id": consent.pk}


def _fill(route: Route, values: dict[str, Any]) -> dict[str, Any]:
    filled = dict(values)
    for name in route.params - set(values):
        converter = next(
            (
                p.converters[name]
                for p in route.pieces
                if isinstance(p, RoutePattern) and name in p.converters
            ),
            None,
        )
        filled[name] = 1 if converter is not None and converter.regex == "[0-9]+" else "x"
    return filled


def _clients(world: World, route: Route) -> Iterator[tuple[str, Client]]:
    yield "session", verified_client(world.other_caseworker)
    if route.is_api:
        token = Token.objects.create(user=world.other_caseworker)
        yield "token", Client(HTTP_AUTHORIZATION=f"Token {token.key}")


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_an_unrelated_worker_learns_nothing_about_the_youth(
    world: World, maya_record: dict[str, Any], route: Route
) -> None:
    path = route.path(_fill(route, maya_record["values"]))
    for how, client in _clients(world, route):
        response = client.get(path)
        body = response.content.decode("utf-8", errors="replace")
        leaked = [value for value in maya_record["identifiers"] if value in body]
        assert not leaked, f"GET {path} ({how}) answered {response.status_code} with {leaked}"
        if route.name not in OPEN_TO_ANY_WORKER:
            assert response.status_code != 200, f"GET {path} ({how}) answered 200"


def test_the_identifiers_are_what_the_record_page_shows(
    world: World, maya_record: dict[str, Any]
) -> None:
    """The leak check looks for the right strings: the owner's page shows every one of them."""
    client = verified_client(world.county_caseworker)
    body = client.get(f"/youth/{world.maya.pk}/").content.decode()
    assert [value for value in maya_record["identifiers"] if value not in body] == []
    api = client.get(f"/api/v1/youth/{world.maya.pk}/").json()
    assert api["family_name"] == world.maya.family_name
    # The token client really authenticates (so the unrelated worker's 404 is the policy's).
    token = Token.objects.create(user=world.county_caseworker)
    by_token = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert by_token.get(f"/api/v1/youth/{world.maya.pk}/").json()["record_number"] == (
        world.maya.record_number
    )


def test_a_signed_form_reaches_only_the_record_managers(
    world: World, maya_record: dict[str, Any]
) -> None:
    consent_id = maya_record["values"]["consent_id"]
    path = f"/youth/{world.maya.pk}/consents/{consent_id}/form/"
    assert verified_client(world.county_caseworker).get(path).content == SIGNED_FORM
    assert verified_client(world.clinic_clinician).get(path).status_code == 404
