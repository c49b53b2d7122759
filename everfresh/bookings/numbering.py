"""Hand out per-company booking numbers (BK-1001, BK-1002, ...) that never repeat."""

from everfresh.companies.models import Company, claim_next


def next_booking_number(company_id: str) -> str:
    """Claim the company's next booking number inside the current transaction."""
    return f"BK-{claim_next(company_id, Company.last_booking_number)}"
