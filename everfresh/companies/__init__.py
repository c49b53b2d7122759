"""Companies: the tenants of EverFresh."""
