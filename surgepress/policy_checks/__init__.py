"""Checkov loads every module here as custom checks (`--external-checks-dir`); see platform.py."""
