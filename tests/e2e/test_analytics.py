"""Analysts in a real browser: request a report, watch it finish, read the opportunities,
see the graph picture and download the exports."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import require_endpoints


def test_analyst_runs_a_report_and_downloads_its_exports(open_as, community, shot):
    require_endpoints(community["server"], "/reports", "/reports/{report_id}", "/reports/{report_id}/result")
    community["call"]("PUT", f"/brands/{community['brand']}/analysts/{community['ada']['id']}")
    ada = open_as("ada")
    ada.get_by_role("link", name="Analytics").click()
    ada.get_by_label("Brand").select_option(label="Tidewater")
    ada.get_by_label("Scope").select_option(label="The whole brand")
    ada.get_by_role("button", name="Request report").click()
    expect(ada.get_by_role("heading", name="People worth engaging")).to_be_visible(timeout=60_000)
    expect(ada.get_by_role("progressbar", name="Report progress")).to_have_attribute("value", "100")
    picture = ada.get_by_role("img", name="The community graph", exact=False)
    expect(picture).to_be_visible(timeout=60_000)  # rendered by the server on request: seconds on a busy machine
    assert picture.evaluate("img => img.naturalWidth") > 0
    shot(ada, "report")

    for label, suffix in (("Opportunities (CSV)", ".csv"), ("Graph (GraphML)", ".graphml"), ("Graph (GEXF, for Gephi)", ".gexf")):
        with ada.expect_download() as download:
            ada.get_by_role("button", name=label).click()
        assert download.value.suggested_filename.endswith(suffix)
        content = open(download.value.path(), "rb").read()
        assert content, label
        if suffix != ".csv":
            assert content.lstrip().startswith(b"<?xml"), label
