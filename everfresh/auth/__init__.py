"""Authentication, roles and user accounts."""
