"""Bulk imports: streamed, validated row by row with line numbers, idempotent by external id."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest
from sqlalchemy import func, select

from core.extensions import db
from purpose.imports import import_stakeholders, import_touchpoints
from purpose.models import Brand, Stakeholder, Touchpoint, TouchpointKind
from purpose.stakeholders import email_hash

STAKEHOLDERS_CSV = """external_id,kind,email,legal_basis,contact_preference
c-1,customer,Ann@Example.com,consent,friendship
c-2,prospect,,none,
c-3,galactic,x@example.com,none,
,invited,y@example.com,none,
c-4,event_attendee,not-an-email,none,
c-5,ngo,ngo@example.org,legitimate_interest,fling
c-1,customer,ann@example.com,consent,friendship
"""


@pytest.fixture
def brand_id(app):
    with app.app_context():
        brand = Brand(name="Importers")
        db.session.add(brand)
        db.session.commit()
        yield brand.id


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_csv_rows_are_validated_one_by_one_with_line_numbers(app, brand_id):
    with app.app_context():
        report = import_stakeholders(io.StringIO(STAKEHOLDERS_CSV), "csv", brand_id=brand_id, source="crm")
        assert (report.accepted, report.duplicates, report.rejected) == (3, 1, 3)
        assert [line for line, _ in report.errors] == [4, 5, 6]
        assert "kind" in report.errors[0][1] and "external_id" in report.errors[1][1] and "email" in report.errors[2][1]
        ann = db.session.scalar(select(Stakeholder).where(Stakeholder.external_id == "c-1"))
        assert ann.email == "ann@example.com" and ann.contact_preference.value == "friendship"
        assert ann.email_hash == email_hash("Ann@Example.com")  # what links her registration to this row


def test_importing_the_same_file_twice_stores_nothing_twice(app, brand_id):
    with app.app_context():
        import_stakeholders(io.StringIO(STAKEHOLDERS_CSV), "csv", brand_id=brand_id, source="crm")
        again = import_stakeholders(io.StringIO(STAKEHOLDERS_CSV), "csv", brand_id=brand_id, source="crm")
        assert (again.accepted, again.duplicates) == (0, 4)
        assert _count(Stakeholder) == 3
        # The same external id from another system is another person.
        other = import_stakeholders(io.StringIO(STAKEHOLDERS_CSV), "csv", brand_id=brand_id, source="shop")
        assert other.accepted == 3 and _count(Stakeholder) == 6


def test_a_resumed_import_stores_only_the_rows_not_stored_before(app, brand_id, monkeypatch):
    """Batches wholly stored, half stored (the row that collides comes mid-batch) and new:
    each ends with every row stored once and the report counting the repeats."""
    monkeypatch.setattr("purpose.imports.BATCH", 4)
    rows = [{"external_id": f"r-{i}", "kind": "prospect", "email": f"r{i}@example.com"} for i in range(12)]
    jsonl = [json.dumps(row) + "\n" for row in rows]
    with app.app_context():
        first = import_stakeholders(io.StringIO("".join(jsonl[:6])), "jsonl", brand_id=brand_id, source="crm")
        assert first.accepted == 6
        rest = import_stakeholders(io.StringIO("".join(jsonl)), "jsonl", brand_id=brand_id, source="crm")
        assert (rest.accepted, rest.duplicates, rest.rejected) == (6, 6, 0)
        stored = db.session.scalars(select(Stakeholder.external_id).where(Stakeholder.brand_id == brand_id)).all()
        assert sorted(stored) == sorted(row["external_id"] for row in rows)


def test_jsonl_touchpoints_resolve_stakeholders_and_reject_what_they_cannot(app, brand_id):
    lines = [
        {"external_id": "t-1", "stakeholder_external_id": "c-1", "kind": "purchase", "occurred_at": "2026-10-01T10:00:00Z", "amount": 42.5, "currency": "EUR"},
        {"external_id": "t-2", "stakeholder_external_id": "nobody", "kind": "purchase", "occurred_at": "2026-10-01T10:00:00Z"},
        "this is not json",
        {"external_id": "t-3", "stakeholder_external_id": "c-1", "kind": "event", "occurred_at": "2026-10-01T10:00:00"},
        {"external_id": "t-4", "stakeholder_external_id": "c-1", "other_stakeholder_external_id": "c-5", "kind": "referral", "occurred_at": "2026-10-02T09:00:00+02:00"},
        {"external_id": "t-5", "stakeholder_external_id": "c-2", "kind": "purchase", "occurred_at": "2026-10-01T10:00:00Z", "amount": -3},
    ]
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    with app.app_context():
        import_stakeholders(io.StringIO(STAKEHOLDERS_CSV), "csv", brand_id=brand_id, source="crm")
        report = import_touchpoints(io.StringIO(text), "jsonl", brand_id=brand_id, source="shop", stakeholder_source="crm")
        assert (report.accepted, report.rejected) == (2, 4)
        reasons = dict(report.errors)
        assert "no such stakeholder" in reasons[2] and "JSON" in reasons[3]
        assert "occurred_at" in reasons[4] and "amount" in reasons[6]
        referral = db.session.scalar(select(Touchpoint).where(Touchpoint.kind == TouchpointKind.referral))
        assert referral.other_stakeholder_id is not None
        assert referral.occurred_at.isoformat() == "2026-10-02T07:00:00+00:00"


def test_cli_imports_with_progress_and_a_summary(app, brand_id, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(STAKEHOLDERS_CSV)
    result = app.test_cli_runner().invoke(args=["import-stakeholders", str(path), "--brand", str(brand_id), "--source", "crm"])
    assert result.exit_code == 0, result.output
    assert "accepted 3, already stored 1, rejected 3" in result.output
    assert "line 4: kind" in result.output


def _peak_memory_of_import(path, rows: int, brand_id: int, source: str) -> int:
    with path.open("w") as f:
        for i in range(rows):
            f.write(json.dumps({"external_id": f"p-{i}", "kind": "prospect", "email": f"p{i}@example.com"}) + "\n")
    tracemalloc.start()
    with path.open(encoding="utf-8") as stream:
        report = import_stakeholders(stream, "jsonl", brand_id=brand_id, source=source)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.accepted == rows
    return peak


def test_a_file_is_streamed_memory_does_not_grow_with_its_size(app, brand_id, tmp_path):
    with app.app_context():
        small = _peak_memory_of_import(tmp_path / "small.jsonl", 3_000, brand_id, "small")
        large = _peak_memory_of_import(tmp_path / "large.jsonl", 12_000, brand_id, "large")
        assert _count(Stakeholder) == 15_000
    assert large < 1.5 * small, f"peak {large} bytes for 4x the rows of a {small}-byte import"


def _many_customers(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i},customer" for i in range(count)]


def test_an_over_long_csv_field_is_a_rejected_row_after_committed_batches(world):
    """The row over the field limit comes after a full batch was committed: it is one bad row
    among the others, and the answer counts everything stored."""
    rows = _many_customers("early", 1200) + ["huge," + "x" * 200_000, "quoted,\"" + "y" * 140_000 + "\""]
    body = "\n".join(["external_id,kind", *rows, *_many_customers("late", 5)]) + "\n"
    response = world["manager"].post(f"/api/v1/brands/{world['brand']}/imports/stakeholders",
                                      data=body.encode(), content_type="text/csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (1205, 0, 2)
    assert [e["line"] for e in report["errors"]] == [1202, 1203]
    assert all("longer than 131,072 characters" in e["reason"] for e in report["errors"])


def test_a_jsonl_row_nested_too_deep_is_a_rejected_row(world):
    good = [json.dumps({"external_id": f"j-{i}", "kind": "customer"}) for i in range(1001)]
    deep = '{"external_id": "deep", "kind": "customer", "x": ' + "[" * 1000 + "]" * 1000 + "}"
    body = "\n".join([*good, deep, '{"external_id": "nested", "kind": ' + "[" * 40 + "]" * 40 + "}",
                      json.dumps({"external_id": "after", "kind": "customer"})]) + "\n"
    response = world["manager"].post(f"/api/v1/brands/{world['brand']}/imports/stakeholders",
                                      data=body.encode(), content_type="application/x-ndjson")
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["accepted"], report["rejected"]) == (1002, 2)
    assert report["errors"] == [{"line": 1002, "reason": "nested deeper than 32 levels"},
                                {"line": 1003, "reason": "nested deeper than 32 levels"}]


def test_bytes_that_are_not_utf8_after_a_batch_answer_what_was_stored(app, world):
    body = ("\n".join(["external_id,kind", *_many_customers("ok", 3000)]) + "\n").encode() + b"\xff\xfe,customer\n"
    response = world["manager"].post(f"/api/v1/brands/{world['brand']}/imports/stakeholders", data=body, content_type="text/csv")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "not-utf8" and problem["rejected"] == 0
    with app.app_context():
        assert problem["accepted"] == _count(Stakeholder) >= 1000  # what it says was stored, was


def test_cli_reports_an_over_long_field_as_a_row(app, brand_id, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("external_id,kind\nok,customer\nhuge," + "x" * 200_000 + "\nafter,customer\n")
    result = app.test_cli_runner().invoke(args=["import-stakeholders", str(path), "--brand", str(brand_id)])
    assert result.exit_code == 0, result.output
    assert "accepted 2, already stored 0, rejected 1" in result.output
    assert "line 3: a field is longer than 131,072 characters" in result.output


def _purposes(brand_id: int) -> dict[str, int]:
    from purpose.models import Purpose, PurposeKind

    made = {title: Purpose(brand_id=brand_id, kind=PurposeKind.societal, title=title, tags=tags)
            for title, tags in (("Ocean Clean-up", ["ocean", "beach"]), ("Local Food", ["food"]))}
    db.session.add_all(made.values())
    db.session.commit()
    return {title: p.id for title, p in made.items()}


def test_names_interests_and_declared_purposes_are_imported_by_title_or_id(app, brand_id):
    with app.app_context():
        ids = _purposes(brand_id)
        csv_text = ("external_id,kind,display_name,interests,purposes\n"
                    "n-1,prospect,Nora Quist,beach; kayaks,ocean clean-up\n"
                    f"n-2,customer,,,{ids['Local Food']};Ocean Clean-up\n"
                    "n-3,customer,Bad Ref,,Moon Base\n")
        report = import_stakeholders(io.StringIO(csv_text), "csv", brand_id=brand_id, source="crm")
        assert (report.accepted, report.rejected) == (2, 1)
        assert report.errors[0][0] == 4 and "Moon Base" in report.errors[0][1] and "purposes" in report.errors[0][1]
        nora = db.session.scalar(select(Stakeholder).where(Stakeholder.external_id == "n-1"))
        assert (nora.display_name, nora.interests, nora.purpose_ids) == ("Nora Quist", ["beach", "kayaks"], [ids["Ocean Clean-up"]])
        second = db.session.scalar(select(Stakeholder).where(Stakeholder.external_id == "n-2"))
        assert second.display_name is None and second.purpose_ids == [ids["Local Food"], ids["Ocean Clean-up"]]
        jsonl = json.dumps({"external_id": "n-4", "kind": "ngo", "display_name": "Reef Trust", "purposes": [ids["Local Food"]],
                            "interests": ["food"]}) + "\n"
        assert import_stakeholders(io.StringIO(jsonl), "jsonl", brand_id=brand_id, source="crm").accepted == 1
        assert db.session.scalar(select(Stakeholder.purpose_ids).where(Stakeholder.external_id == "n-4")) == [ids["Local Food"]]


def test_a_touchpoint_carries_a_purpose_of_the_brand_or_is_rejected(app, brand_id):
    with app.app_context():
        ids = _purposes(brand_id)
        import_stakeholders(io.StringIO("external_id,kind\nc-1,customer\n"), "csv", brand_id=brand_id, source="crm")
        rows = [{"external_id": "e-1", "stakeholder_external_id": "c-1", "kind": "event", "event_ref": "beach-day",
                 "occurred_at": "2026-10-01T10:00:00Z", "purpose": "Ocean Clean-up"},
                {"external_id": "e-2", "stakeholder_external_id": "c-1", "kind": "purchase", "amount": 5,
                 "occurred_at": "2026-10-01T10:00:00Z", "purpose": ids["Local Food"]},
                {"external_id": "e-3", "stakeholder_external_id": "c-1", "kind": "event", "occurred_at": "2026-10-01T10:00:00Z",
                 "purpose": "Knitting"},
                {"external_id": "e-4", "stakeholder_external_id": "c-1", "kind": "event", "occurred_at": "2026-10-01T10:00:00Z"}]
        text = "".join(json.dumps(r) + "\n" for r in rows)
        report = import_touchpoints(io.StringIO(text), "jsonl", brand_id=brand_id, source="shop", stakeholder_source="crm")
        assert (report.accepted, report.rejected) == (3, 1) and "Knitting" in dict(report.errors)[3]
        stored = dict(db.session.execute(select(Touchpoint.external_id, Touchpoint.purpose_id)).all())
        assert stored == {"e-1": ids["Ocean Clean-up"], "e-2": ids["Local Food"], "e-4": None}


def test_imported_names_and_external_ids_round_trip_to_profiles_reports_and_exports(app, world, finished):
    """What staff see of an imported person: the name and their own system's id, not only "nonuser #id"."""
    manager, brand = world["manager"], world["brand"]
    rows = "external_id,kind,display_name,purposes\ncrm-77,prospect,Nora Quist,Oceans\n"
    response = manager.post(f"/api/v1/brands/{brand}/imports/stakeholders?source=crm", data=rows,
                            content_type="text/csv")
    assert response.status_code == 200 and response.get_json()["accepted"] == 1, response.get_json()
    profiles = manager.get(f"/api/v1/brands/{brand}/stakeholders?kind=prospect").get_json()["items"]
    assert [(p["stakeholder"]["display_name"], p["stakeholder"]["external_id"]) for p in profiles] == [("Nora Quist", "crm-77")]
    assert {a["purpose_id"]: a["score"] for a in profiles[0]["alignment"]}[world["societal"]] >= 0.6  # declared the purpose
    report = manager.post("/api/v1/reports", json={"brand_id": brand, "top": 500}).get_json()
    finished(report["id"])
    entries = manager.get(f"/api/v1/reports/{report['id']}/result").get_json()["opportunities"]
    nora = next(e for e in entries if e["external_id"] == "crm-77")
    assert nora["label"] == "Nora Quist" and nora["kind"] == "nonuser"
    csv_text = manager.get(f"/api/v1/reports/{report['id']}/export.csv").get_data(as_text=True)
    assert any(line.split(",")[2:4] == ["Nora Quist", "crm-77"] for line in csv_text.splitlines())
