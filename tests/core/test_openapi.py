"""The OpenAPI document comes from the schema classes that validate requests, and is browsable offline."""

from __future__ import annotations


def test_openapi_document_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/api/v1/auth/login", "/api/v1/spaces", "/api/v1/threads/{thread_id}/posts", "/api/v1/posts/{post_id}/reactions"):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # The request schema is the validating class: its limits appear in the document.
    post_args = spec["components"]["schemas"]["PostArgs"]
    assert post_args["properties"]["body"]["maxLength"] == 10_000
    assert "body" in post_args["required"]
    assert post_args["additionalProperties"] is False
    space_param = next(p for p in paths["/api/v1/spaces/{space_id}"]["parameters"] if p["name"] == "space_id")
    assert space_param["schema"]["type"] == "integer"


def test_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs-assets/swagger-ui-bundle.js" in html
    assert not any(host in html for host in ("cdn", "unpkg", "jsdelivr"))  # works offline
    asset = client.get("/api/v1/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_error_responses_are_documented_as_problem_details(client):
    """What the API sends for errors (``application/problem+json``, type/title/status/detail) is
    what the document says, for every operation."""
    spec = client.get("/api/v1/openapi.json").get_json()
    responses = spec["components"]["responses"]
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["status"]["type"] == "integer"
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status != "default" and int(status) < 400:
                    continue
                response = responses[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
                checked += 1
    assert checked > 50
