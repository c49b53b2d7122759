"""Bookings: the cleanings customers schedule and staff carry out."""
