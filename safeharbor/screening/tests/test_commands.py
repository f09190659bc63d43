"""Operator commands: import_instrument and rescore_screenings."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from safeharbor.audit.models import AuditEvent
from safeharbor.screening.models import Instrument, Screening
from safeharbor.screening.shipped import SHIPPED_DIR

from .helpers import FIXTURES, SIX, completed, document, load, six_answers


def test_import_a_file_for_every_agency_or_for_one(world, capsys):
    call_command("import_instrument", str(FIXTURES / SIX))
    assert (
        "Loaded https://example.org/fhir/Questionnaire/six-item-screen|1" in capsys.readouterr().out
    )
    call_command(
        "import_instrument", str(FIXTURES / "ten_domain_rating.json"), agency=world.county.name
    )
    assert Instrument.objects.get(name="TenDomainRating").agency == world.county
    with pytest.raises(CommandError, match="No agency"):
        call_command("import_instrument", str(FIXTURES / SIX), agency="Nowhere")


def test_a_refused_file_lists_its_problems_and_loads_nothing(world, tmp_path, capsys):
    bad = document(SIX)
    bad["item"][0]["item"][1]["linkId"] = "q1"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_instrument", str(path))
    assert "unique-link-id" in capsys.readouterr().err
    assert not Instrument.objects.exists()
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(CommandError, match="as JSON"):
        call_command("import_instrument", str(tmp_path / "broken.json"))


def test_shipped_instruments_load_once(world, capsys):
    call_command("import_instrument", shipped=True)
    call_command("import_instrument", shipped=True)
    out = capsys.readouterr().out
    assert out.count(": loaded") == len(list(SHIPPED_DIR.glob("*.json")))
    assert "already loaded" in out


def test_rescore_finds_every_stored_result_matching(world, capsys):
    instrument = load(SIX)
    for yes in range(4):
        completed(world, instrument, six_answers(yes))
    call_command("rescore_screenings")
    out = capsys.readouterr().out
    assert "4 completed screening(s) scored again" in out
    assert "Every stored result matches." in out
    assert AuditEvent.objects.filter(object_type="screening.rescore").exists()


def test_rescore_reports_a_stored_result_that_differs(world, capsys):
    instrument = load(SIX)
    screening = completed(world, instrument, six_answers(0))
    Screening.objects.filter(pk=screening.pk).update(computed_level="clear_concern")
    with pytest.raises(CommandError, match="1 stored result"):
        call_command("rescore_screenings")
    assert f"screening {screening.pk}: stored clear_concern" in capsys.readouterr().err
