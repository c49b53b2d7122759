"""Hand out per-company booking numbers (BK-1001, BK-1002, ...) that never repeat."""

from everfresh.companies.models import Company, claim_next


def claim_number_and_sequence(company_id: str) -> tuple[str, int]:
    """Claim the company's next booking number and next event sequence in the transaction.

    One UPDATE for both: a new booking always logs exactly one event.
    """
    number, sequence = claim_next(
        company_id, Company.last_booking_number, Company.last_event_sequence
    )
    return f"BK-{number}", sequence
