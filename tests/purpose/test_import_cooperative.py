"""An upload of many rows parses in the web process: under gevent its sockets keep being served
between one row and the next (core/cooperative.py), not only once the import is done."""

from __future__ import annotations

import gevent

from tests.purpose.test_people_api import upload

ROWS = 2000


def test_an_import_through_the_api_lets_the_process_serve_its_sockets_meanwhile(world, loop_turns):
    manager, brand = world["manager"], world["brand"]
    body = "external_id,kind,email\n" + "".join(f"p{i},prospect,p{i}@example.com\n" for i in range(ROWS))
    before = len(loop_turns)
    response = upload(manager, brand, "stakeholders", body, source="crm")
    gevent.idle()
    assert response.status_code == 200 and response.get_json()["accepted"] == ROWS
    assert len(loop_turns) - before >= ROWS
