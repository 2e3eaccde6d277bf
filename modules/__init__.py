"""Reusable constructs, one package per concern. Each takes `(scope, id, *, props)`."""

from surgepress.jsii_env import quiet_jsii

quiet_jsii()  # before anything imports cdktf, whichever entry point comes first
