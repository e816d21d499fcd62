"""Bad input always gets a clear problem-details error with the right status, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers import space_held_by_another_transaction


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_malformed_json_is_400(world):
    member = world["member"]
    response = member.post(
        f"/api/v1/spaces/{world['public']}/threads", data='{"title": "x", "body": ', content_type="application/json"
    )
    _problem(response, 400)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": 5, "body": "ok"}, "title"),
        ({"title": "ok", "body": ["a", "list"]}, "body"),
        ({"title": "ok"}, "body"),
        ({"title": "   ", "body": "ok"}, "title"),
        ({"title": "ok", "body": "x" * 10_001}, "body"),
        ({"title": "ok", "body": "ok", "extra": 1}, "extra"),
        ({"title": "line\nbreak", "body": "ok"}, "title"),
        ({"title": "ok", "body": "nul\x00byte"}, "body"),
        ({"title": "bell\x07", "body": "ok"}, "title"),
    ],
)
def test_wrong_types_and_values_are_422_with_the_field_named(world, payload, field):
    body = _problem(world["member"].post(f"/api/v1/spaces/{world['public']}/threads", json=payload), 422)
    assert field in body["errors"]


def test_json_array_instead_of_object_is_422(world):
    _problem(world["member"].post(f"/api/v1/spaces/{world['public']}/threads", json=["title", "body"]), 422)


def test_lone_surrogate_is_refused_not_stored(world):
    raw = '{"title": "ok", "body": "broken \\ud800 pair"}'
    member = world["member"]
    response = member.post(f"/api/v1/spaces/{world['public']}/threads", data=raw, content_type="application/json")
    assert "body" in _problem(response, 422)["errors"]
    assert member.get(f"/api/v1/spaces/{world['public']}/threads").get_json()["items"] == []


def test_unicode_is_kept_and_normalised(world):
    member = world["member"]
    decomposed = "Cafe\u0301 🌊 中文 مرحبا"
    thread = member.post(f"/api/v1/spaces/{world['public']}/threads", json={"title": decomposed, "body": "👍🏽 ok"})
    assert thread.status_code == 201
    assert thread.get_json()["title"] == "Café 🌊 中文 مرحبا"


def test_huge_body_is_413(make_app, database_url):
    from tests.helpers import register

    app = make_app(MAX_CONTENT_LENGTH=2048)
    actor = register(app.test_client(), "big_body")
    response = actor.post("/api/v1/spaces/1/threads", data="x" * 5000, content_type="application/json")
    _problem(response, 413)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/spaces/999999", "/api/v1/spaces/99999999999999999999", "/api/v1/spaces/0", "/api/v1/spaces/-1",
     "/api/v1/spaces/abc", "/api/v1/threads/2147483648", "/api/v1/posts/424242", "/api/v1/nope"],
)
def test_unknown_ids_are_404(world, url):
    _problem(world["member"].get(url), 404)


def test_wrong_method_is_405(world):
    _problem(world["member"].put("/api/v1/spaces"), 405)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "cursor=forged", "kind=galactic"])
def test_bad_query_parameters_are_422(world, query):
    _problem(world["member"].get(f"/api/v1/spaces?{query}"), 422)


@pytest.mark.parametrize("url", ["/api/v1/spaces?knd=life", "/api/v1/brands?limt=5"])
def test_misspelt_query_parameters_are_422_naming_them(world, url):
    body = _problem(world["member"].get(url), 422)
    assert set(body["errors"]) == {url.split("?")[1].split("=")[0]}


def test_unexpected_error_is_a_generic_500_without_details(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = client.get("/boom")
    body = _problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["type"] == "internal-error"


def test_a_write_refused_by_the_database_is_a_409_and_the_session_recovers(app, client, make_actor):
    from core.extensions import db
    from purpose.models import Brand

    @app.post("/race")
    def race():
        db.session.add_all([Brand(name="Twice"), Brand(name="Twice")])  # what two racing requests do
        db.session.commit()

    admin = make_actor("admin")  # after registering the route: Flask refuses new routes once serving
    response = client.post("/race")
    body = _problem(response, 409)
    assert body["type"] == "conflict" and "IntegrityError" not in response.get_data(as_text=True)
    assert admin.post("/api/v1/brands", json={"name": "After"}).status_code == 201


def test_a_lock_wait_that_runs_out_is_a_503_to_retry_and_stores_nothing(world, make_app, database_url):
    member, space = world["member"], world["public"]
    thread = member.post(f"/api/v1/spaces/{space}/threads", json={"title": "Kelp", "body": "first"}).get_json()
    impatient = make_app(DATABASE_LOCK_TIMEOUT_MS=200).test_client()
    auth = {"Authorization": f"Bearer {member.access_token}"}
    with space_held_by_another_transaction(database_url, space):
        busy = impatient.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "while busy"}, headers=auth)
    body = _problem(busy, 503)
    assert body["type"] == "database-busy" and int(busy.headers["Retry-After"]) >= 1  # the limiter may raise it to its window
    retried = impatient.post(f"/api/v1/threads/{thread['id']}/posts", json={"body": "while busy"}, headers=auth)
    assert retried.status_code == 201
    posts = member.get(f"/api/v1/threads/{thread['id']}/posts").get_json()["items"]
    assert [p["body"] for p in posts] == ["first", "while busy"]
    assert [p["seq"] for p in posts] == [posts[0]["seq"], posts[0]["seq"] + 1]  # the failed try took no number


def _nested(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
@pytest.mark.parametrize("route", ["login", "thread", "flask"])
def test_json_nested_beyond_the_limit_is_a_clear_400_on_every_endpoint(world, make_app, client, depth, route):
    """Login (public), a community write, and a plain view reading ``request.get_json`` alike."""
    body = _nested(depth)
    if route == "login":
        response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    elif route == "thread":
        response = world["member"].post(f"/api/v1/spaces/{world['public']}/threads", data=body, content_type="application/json")
    else:
        from flask import request

        fresh = make_app()
        fresh.add_url_rule("/echo", "echo", lambda: {"got": bool(request.get_json())}, methods=["POST"])
        response = fresh.test_client().post("/echo", data=body, content_type="application/json")
    problem = _problem(response, 400)
    assert problem["type"] == "json-too-deep" and "32" in problem["detail"]


def test_json_nested_to_the_limit_is_parsed_as_usual(client):
    response = client.post("/api/v1/auth/login", data=_nested(32), content_type="application/json")
    assert _problem(response, 422)["type"] == "validation-error"  # parsed, then refused by the schema


def test_wrong_method_names_the_allowed_ones(world):
    response = world["member"].put("/api/v1/spaces")
    _problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    assert "PUT" not in response.headers["Allow"]


@pytest.mark.parametrize("query", ["limit=5&limit=6", "kind=life&kind=societal"])
def test_a_single_valued_query_parameter_given_twice_is_422_naming_it(world, query):
    body = _problem(world["member"].get(f"/api/v1/spaces?{query}"), 422)
    assert set(body["errors"]) == {query.split("=")[0]}


def test_patch_without_any_field_to_change_is_422(world):
    member = world["member"]
    body = _problem(member.patch("/api/v1/me", json={}), 422)
    assert body["type"] == "validation-error"
    assert member.patch("/api/v1/me", json={"display_name": "Max"}).status_code == 200


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_booleans_are_strict(world, value):
    """``{"objected": 0}`` is not a boolean: only JSON true and false are."""
    manager = world["manager"]
    created = manager.post(f"/api/v1/brands/{world['brand']}/stakeholders", json={"kind": "customer"})
    assert created.status_code == 201, created.get_json()
    url = f"/api/v1/stakeholders/{created.get_json()['id']}/objection"
    assert "objected" in _problem(manager.put(url, json={"objected": value}), 422)["errors"]
    settings = f"/api/v1/spaces/{world['public']}/moderation/settings"
    refused = manager.patch(settings, json={"new_member_limits": value, "reason": "tidy"})
    assert "new_member_limits" in _problem(refused, 422)["errors"]


def test_an_over_long_url_is_a_414_problem_from_the_app_behind_gunicorn(live):
    """Served by gunicorn with the repository's gunicorn.conf.py: its own 414 would be HTML."""
    server = live()
    token = server.register("long_url")["token"]
    response = server.api("GET", "/spaces?kind=" + "x" * 9000, token)
    assert response.status_code == 414, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"] == "uri-too-long"
    assert server.api("GET", "/spaces?kind=" + "x" * 3000, token).status_code == 422  # below it: the app's usual answer
