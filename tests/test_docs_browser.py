"""Read and try the API document in a real Chromium: Swagger UI from this origin, under its CSP."""

from __future__ import annotations

import json

import pytest

from tests.test_board_browser import Browser, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.live

OPERATIONS_SHOWN = "document.querySelectorAll('.opblock').length"
CSP_REFUSALS = "Content Security Policy"


def test_docs_show_every_operation_and_try_one_against_this_origin(
    live_server,
    browser: Browser,  # noqa: F811
) -> None:
    server = live_server()
    spec = server.request("GET", "/openapi.json").body
    operations = sum(len(item) for item in spec["paths"].values())
    healthz = spec["paths"]["/healthz"]["get"]

    browser("goto", url=f"{server.base_url}/docs")
    browser("waitFor", selector=".opblock", timeout=15000)
    assert browser("evaluate", expression=OPERATIONS_SHOWN) == operations

    block = f"#operations-{healthz['tags'][0]}-{healthz['operationId']}"
    browser("click", selector=f"{block} .opblock-summary-control")
    browser("click", selector=f"{block} .try-out__btn")
    browser("click", selector=f"{block} .execute")
    answer = f"{block} .live-responses-table tbody"
    browser("waitFor", selector=f"{answer} .response-col_status")
    assert browser("text", selector=f"{answer} .response-col_status").strip() == "200"
    body = browser("text", selector=f"{answer} .response-col_description pre.microlight")
    assert json.loads(body) == {"status": "ok"}

    refusals = [line for line in browser("console") if CSP_REFUSALS in line]
    assert refusals == []
