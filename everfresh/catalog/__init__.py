"""The catalogue: customers, services and staff members of each company."""
