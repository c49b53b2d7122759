"""Hand out per-company booking numbers (BK-1001, BK-1002, ...) that never repeat."""

from sqlalchemy import update

from everfresh.companies.models import Company
from everfresh.extensions import db


def next_booking_number(company_id: str) -> str:
    """Claim the company's next booking number inside the current transaction.

    The UPDATE locks the company row until commit, so concurrent creators (in any worker
    or host) queue behind each other, and a rollback gives the number back: numbers stay
    unique and gap-free.
    """
    claimed = db.session.execute(
        update(Company)
        .where(Company.id == company_id)
        .values(last_booking_number=Company.last_booking_number + 1)
        .returning(Company.last_booking_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return f"BK-{claimed}"
