"""Add the `flask` commands operators run: database, demo data, companies, users and their
passwords, pruning, watch."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from config import CONFIGURATION_ERROR_EXIT_STATUS, DEVELOPMENT_DATABASE_URL, ConfigurationError
from everfresh import database
from everfresh.auth.models import Role, User
from everfresh.auth.passwords import hash_password, password_problem, words_of
from everfresh.catalog.models import Customer
from everfresh.companies.currencies import DEFAULT_CURRENCY, check_currency
from everfresh.companies.models import Company, find_company_by_name
from everfresh.companies.timezones import DEFAULT_TIMEZONE, check_timezone
from everfresh.demo import refused_with_demo_logins_in_production, remove_demo, seed_demo
from everfresh.extensions import db
from everfresh.retention import prune_expired
from everfresh.tenancy import find_in_company
from everfresh.web.display_names import normalise_name
from everfresh.web.validation import normalise_email

CommandT = TypeVar("CommandT", bound=Callable[..., object])


def using_the_database(command: CommandT) -> CommandT:
    """Make a command say which database it works on, and stop in one line if it cannot."""

    @functools.wraps(command)
    def announced(*args: object, **kwargs: object) -> object:
        # Said first: a shell that forgot to load the env file is about to write elsewhere.
        uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
        note = " (DATABASE_URL is not set)" if uri == DEVELOPMENT_DATABASE_URL else ""
        click.echo(f"Using the database {database.describe_database(current_app)}{note}.")
        database.check_connection()
        return command(*args, **kwargs)

    return announced  # type: ignore[return-value]


@click.command("init-db")
@with_appcontext
@using_the_database
def init_db_command() -> None:
    """Create or upgrade the database schema; safe to run again."""
    try:
        database.upgrade_schema()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Database schema is up to date.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo companies, logins (password: everfresh-demo), catalogue and a busy day."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Refusing to load demo logins into a production database.")
    added = seed_demo()
    if added:
        click.echo(f"Demo data is in place: {added} bookings added.")
    else:
        click.echo("Demo data is in place.")


@click.command("remove-demo")
@with_appcontext
def remove_demo_command() -> None:
    """Deactivate the demo logins and every login of the demo companies; safe to run again."""
    removed = remove_demo()
    click.echo(f"Deactivated {removed} demo logins; none is left active.")


@click.command("create-company")
@click.argument("name")
@click.option(
    "--timezone",
    default=DEFAULT_TIMEZONE,
    show_default=True,
    help="IANA time zone the company's bookings are read in, e.g. Europe/London.",
)
@click.option(
    "--currency",
    default=DEFAULT_CURRENCY,
    show_default=True,
    help="ISO 4217 code of the currency its prices are in, e.g. EUR.",
)
@with_appcontext
@using_the_database
@refused_with_demo_logins_in_production
def create_company_command(name: str, timezone: str, currency: str) -> None:
    """Create a company (a tenant), the first step of a new installation."""
    name = _display_name(name, "NAME")
    try:
        check_timezone(timezone)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--timezone") from None
    try:
        check_currency(currency)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--currency") from None
    taken = find_company_by_name(name)
    if taken is not None:
        raise click.ClickException(f"A company named {taken.name!r} already exists.")
    company = Company(name=name, timezone=timezone, currency=currency)
    db.session.add(company)
    db.session.commit()
    click.echo(f"Created company {company.name} ({company.id}) in {company.timezone}.")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--company", "company_name", help="Company name or id (not for a superadmin).")
@click.option("--customer", "customer_id", help="The Customer id a customer user books for.")
@click.password_option(help="Prompted for when left out.")
@with_appcontext
@using_the_database
@refused_with_demo_logins_in_production
def create_user_command(
    email: str,
    name: str,
    role: str,
    company_name: str | None,
    customer_id: str | None,
    password: str,
) -> None:
    """Create a user who can log in."""
    try:
        email = normalise_email(email.strip()).lower()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--email") from None
    name = _display_name(name, "--name")
    company_id = _company_for(Role(role), company_name)
    if (role == Role.CUSTOMER) != (customer_id is not None):
        raise click.BadParameter(
            "a customer user, and only one, books for a Customer", param_hint="--customer"
        )
    if customer_id is not None:
        if find_in_company(Customer, customer_id, company_id) is None:
            raise click.BadParameter(f"no customer {customer_id!r} in that company")
    _check_password(password, email, name)
    if db.session.scalars(db.select(User).where(User.email == email)).first():
        raise click.ClickException(f"A user with email {email} already exists.")
    user = User(
        email=email,
        name=name,
        role=Role(role),
        company_id=company_id,
        customer_id=customer_id,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {user.email} ({user.id}).")


def _company_for(role: Role, company_name: str | None) -> str | None:
    if role == Role.SUPERADMIN:
        if company_name:
            raise click.BadParameter("a superadmin belongs to no company", param_hint="--company")
        return None
    if not company_name:
        raise click.BadParameter(f"name the {role}'s company", param_hint="--company")
    company = db.session.get(Company, company_name) or find_company_by_name(company_name)
    if company is None:
        raise click.BadParameter(f"no company {company_name!r}", param_hint="--company")
    return company.id


def _display_name(name: str, param_hint: str) -> str:
    try:
        return normalise_name(name)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=param_hint) from None


def _check_password(password: str, email: str, name: str) -> None:
    problem = password_problem(password, words_of(email, name))
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--password")


@click.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.option(
    "--must-change",
    is_flag=True,
    help="Make it temporary: the user must choose a new one before anything else.",
)
@with_appcontext
@refused_with_demo_logins_in_production
def set_password_command(email: str, password_stdin: bool, must_change: bool) -> None:
    """Set the password of the user with EMAIL, ending every session of theirs."""
    user = db.session.scalars(db.select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="EMAIL")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _check_password(password, user.email, user.name)
    user.set_password_hash(hash_password(password), must_change=must_change)
    db.session.commit()
    ending = "; they must change it at their next login" if must_change else ""
    click.echo(f"Set the password of {user.email} ({user.id}) and ended their sessions{ending}.")


@click.command("prune")
@with_appcontext
@refused_with_demo_logins_in_production
def prune_command() -> None:
    """Remove events past SSE_REPLAY_HOURS, idempotency keys past 24 hours, expired revocations."""
    counts = prune_expired()
    click.echo(
        f"Pruned {counts['events']} events, {counts['idempotency_keys']} idempotency keys "
        f"and {counts['revoked_tokens']} revoked tokens."
    )


@click.command("watch")
@click.option("--url", help="Server base URL [default: EVERFRESH_URL, else http:// and BIND].")
@click.option("--token", help="An access token (staff, admin or superadmin).")
@click.option("--email", help="Log in as this user; the password is prompted for.")
@click.option("--company-id", help="A superadmin's choice of one company's events.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per event line.")
def watch_command(
    url: str | None, token: str | None, email: str | None, company_id: str | None, as_json: bool
) -> None:
    """Print a running server's live booking events, one line each, until Ctrl-C."""
    if (token is None) == (email is None):
        raise click.UsageError("Pass either --token or --email.")
    # Imported here, not at the top: every server worker registers these commands, and the
    # HTTP client it needs costs each worker about 5 MB that only this command uses.
    from everfresh.sse.watcher import base_url_for, watch

    url = url or current_app.config["EVERFRESH_URL"] or base_url_for(current_app.config["BIND"])

    try:
        watch(url, token, email, company_id, as_json)
    except KeyboardInterrupt:
        # Ctrl-C is how a watch ends: no traceback, no error status.
        sys.exit(0)


def _refuse_in_one_line(database_url: str) -> None:
    # Replaces the traceback of any command, Flask's own and plugins' (`db upgrade`) included,
    # that stops over a setting or a database it cannot use; a bug keeps its traceback.
    report_bug = sys.excepthook

    def report(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        problem = database.problem_with(error, database_url)
        if isinstance(error, ConfigurationError):
            problem = " ".join(str(error).split("\n"))
        # `flask shell` shows its errors through this hook too: there it must not end the shell.
        if problem is None or hasattr(sys, "ps1"):
            report_bug(kind, error, trace)
            return
        sys.stderr.write(f"EverFresh: {problem}\n")
        sys.stderr.flush()
        sys.stdout.flush()
        # Past the exception hook the interpreter would exit with 1; a refusal exits with 2.
        os._exit(CONFIGURATION_ERROR_EXIT_STATUS)

    sys.excepthook = report


def init_app(app: Flask) -> None:
    """Register the commands on `app`; in the `flask` command, report refusals in one line."""
    if click.get_current_context(silent=True) is not None:
        # Only the `flask` command loads the app inside a click context: not gunicorn, not tests.
        _refuse_in_one_line(app.config["SQLALCHEMY_DATABASE_URI"])
    for command in (
        init_db_command,
        seed_demo_command,
        remove_demo_command,
        create_company_command,
        create_user_command,
        set_password_command,
        prune_command,
        watch_command,
    ):
        app.cli.add_command(command)
