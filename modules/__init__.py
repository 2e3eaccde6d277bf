"""Reusable constructs, one package per concern. Each takes `(scope, id, *, props)`."""
