"""Disaster recovery: the production platform composed a second time in the DR region."""
