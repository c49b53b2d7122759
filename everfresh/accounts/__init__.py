"""Accounts: creating and managing the users who log in, and linking them to staff or customers."""
