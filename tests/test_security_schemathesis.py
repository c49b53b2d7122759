"""Throw schemathesis-generated requests, valid and invalid, at every operation: none may 500.

The operations are the rows of the role matrix (tests/test_security_matrix.py), found in the
app's own /openapi.json. Each example is sent as a random caller, from none to superadmin, so
that requests get past authentication. schemathesis' pytest plugin cannot drive pytest 9's
test items, so its strategies run under a plain Hypothesis `@given` instead.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.test_security_matrix import MATRIX

# Examples per operation and mode: enough to find a class of bad input, few enough to be quick.
EXAMPLES = 10
CALLERS = [
    None,
    ("customer", "everfresh"),
    ("staff", "everfresh"),
    ("admin", "everfresh"),
    ("superadmin", None),
]
# An open stream never ends, so a generated call would never return; the stream's inputs are
# tested in tests/test_sse_*.py and tests/test_security_tokens.py. Static files are page
# assets, not in the document.
ENDLESS = {("/sse/events", "GET")}


def openapi_path(rule: str) -> str:
    """Turn a Flask URL rule into its OpenAPI path: `<path:filename>` becomes `{filename}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


OPERATIONS = [
    pytest.param(openapi_path(rule), method, id=f"{method} {rule}")
    for rule, method in MATRIX
    if (rule, method) not in ENDLESS and "/static/" not in rule
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_generated_request_makes_a_server_error(app: Flask, login_as, path: str, method: str):
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def send(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        caller = data.draw(st.sampled_from(CALLERS))
        headers = {**(case.headers or {}), **(login_as(*caller) if caller else {})}
        case.validate_response(case.call(headers=headers), checks=[not_a_server_error])

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            send()
        except Unsatisfiable:
            # No parameter or body to get wrong: nothing invalid can be sent.
            assert mode is GenerationMode.NEGATIVE
