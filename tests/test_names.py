"""Store company and user names as people read them: NFKC, no invisible characters, one case.

A no-break space or a full-width letter is folded into its plain form; a zero-width space, a
direction override or a control character is refused with a 422 naming the field; two
companies may not differ only in case, through the API, the shell or a race.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

from everfresh.auth.models import User
from everfresh.companies.models import Company
from everfresh.extensions import db
from everfresh.web.conflicts import unique_violation
from everfresh.web.display_names import INVISIBLE_CHARACTERS, name_key, normalise_name

TAKEN = "A company with this name already exists."


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Acme\u00a0Cleaning", "Acme Cleaning"),
        ("Acme\u202fCleaning", "Acme Cleaning"),
        ("  Acme \u3000 Cleaning  ", "Acme Cleaning"),
        ("\uff21\uff43\uff4d\uff45", "Acme"),
        ("Cafe\u0301", "Caf\u00e9"),
        ("\u00c5ngstr\u00f6m & S\u00f6hne", "\u00c5ngstr\u00f6m & S\u00f6hne"),
    ],
    ids=[
        "no-break-space",
        "narrow-no-break-space",
        "ideographic-space",
        "full-width",
        "nfc",
        "plain",
    ],
)
def test_names_are_normalised(given, stored):
    assert normalise_name(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "Ac\u200bme",
        "\u202eemcA",
        "Acme\u2066 Cleaning",
        "Acme\ufeff",
        "Acme\tCleaning",
        "Acme\nCleaning",
        "Acme\u2028Cleaning",
        "Acme\u00ad",
        "Acme\ue000",
    ],
    ids=[
        "zero-width-space",
        "right-to-left-override",
        "isolate",
        "byte-order-mark",
        "tab",
        "newline",
        "line-separator",
        "soft-hyphen",
        "private-use",
    ],
)
def test_invisible_characters_are_refused(given):
    with pytest.raises(ValueError, match="Use visible characters only"):
        normalise_name(given)


def test_keys_ignore_case_and_compatibility_forms():
    assert name_key("ACME Cleaning") == name_key("acme cleaning") == name_key("\uff21cme cleaning")
    assert name_key("Stra\u00dfe") == name_key("STRASSE")


def test_a_new_company_name_is_stored_normalised(client, login_as):
    response = client.post(
        "/companies", headers=login_as("superadmin"), json={"name": " Acme\u00a0\u00a0Cleaning "}
    )

    assert (response.status_code, response.get_json()["name"]) == (201, "Acme Cleaning")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/companies"), ("PATCH", "/companies/{company}")]
)
@pytest.mark.parametrize("name", ["Acme\u200bCleaning", "\u202egninaelC emcA", "Acme\rCleaning"])
def test_company_names_with_invisible_characters_are_422(
    client, login_as, tenants, method, path, name
):
    response = client.open(
        path.format(company=tenants["everfresh"].company_id),
        method=method,
        headers=login_as("superadmin"),
        json={"name": name},
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"name": INVISIBLE_CHARACTERS}


@pytest.mark.parametrize(
    "name", ["everfresh demo", "EVERFRESH DEMO", "EverFresh\u00a0Demo", "\uff25verFresh Demo"]
)
def test_company_names_are_unique_whatever_their_case(app, client, login_as, name):
    response = client.post("/companies", headers=login_as("superadmin"), json={"name": name})

    assert (response.status_code, response.get_json()["error"]["message"]) == (409, TAKEN)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Company)) == 2


def test_renaming_into_another_companys_name_in_another_case_is_409(client, login_as, tenants):
    path = f"/companies/{tenants['brighthome'].company_id}"

    taken = client.patch(path, headers=login_as("superadmin"), json={"name": "EVERFRESH demo"})
    own = client.patch(path, headers=login_as("superadmin"), json={"name": "BRIGHTHOME Demo"})

    assert (taken.status_code, taken.get_json()["error"]["message"]) == (409, TAKEN)
    assert (own.status_code, own.get_json()["name"]) == (200, "BRIGHTHOME Demo")


def test_the_database_refuses_a_case_twin_made_around_the_api(app: Flask):
    # What decides between two concurrent requests for the same name in different cases.
    with app.app_context():
        db.session.add(Company(name="EVERFRESH DEMO"))
        with pytest.raises(IntegrityError) as refused:
            db.session.commit()
        db.session.rollback()

    assert unique_violation(refused.value) == "companies.name_key"


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("POST", {"name": "Nadia\u200b Cleaner"}),
        ("POST", {"name": "\u202erenaelC aidaN"}),
        ("PATCH", {"name": "Nadia\u0007"}),
    ],
    ids=["create-zero-width-space", "create-right-to-left-override", "rename-bell"],
)
def test_user_names_with_invisible_characters_are_422(client, login_as, user_id, method, body):
    if method == "POST":
        body = {
            **body,
            "email": "nadia@everfresh.test",
            "password": "plum-kettle-harbour-42",
            "role": "staff",
        }
        response = client.post("/users", headers=login_as("admin"), json=body)
    else:
        path = f"/users/{user_id('staff@everfresh.test')}"
        response = client.patch(path, headers=login_as("admin"), json=body)

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"name": INVISIBLE_CHARACTERS}


def test_user_names_are_stored_normalised(client, login_as):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "nadia@everfresh.test",
            "password": "plum-kettle-harbour-42",
            "name": "Nadia\u00a0Cleaner",
            "role": "staff",
        },
    )

    assert (response.status_code, response.get_json()["name"]) == (201, "Nadia Cleaner")


def test_create_company_refuses_a_case_twin_and_invisible_characters(runner):
    twin = runner.invoke(args=["create-company", "EVERFRESH\u00a0demo"])
    hidden = runner.invoke(args=["create-company", "Acme\u200bCleaning"])
    made = runner.invoke(args=["create-company", "Acme\u00a0Cleaning"])

    # Each command first says which database it uses.
    assert twin.exit_code == 1
    assert twin.output.splitlines()[1:] == [
        "Error: A company named 'EverFresh Demo' already exists."
    ]
    assert hidden.exit_code == 2
    assert f"Invalid value for NAME: {INVISIBLE_CHARACTERS}" in hidden.output
    assert made.exit_code == 0
    assert made.output.splitlines()[1].startswith("Created company Acme Cleaning (comp_")


def test_create_user_finds_the_company_whatever_its_case(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            *("--email", "nadia@everfresh.test", "--name", "Nadia\u00a0Cleaner"),
            *("--role", "staff", "--company", "everfresh demo"),
            *("--password", "plum-kettle-harbour-42"),
        ]
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "nadia@everfresh.test")).one()
        everfresh = db.session.scalars(
            db.select(Company.id).where(Company.name == "EverFresh Demo")
        ).one()
        assert (user.name, user.company_id) == ("Nadia Cleaner", everfresh)
