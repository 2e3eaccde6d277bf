"""Reusable constructs, one package per concern. Each takes `(scope, id, *, props)`."""

import surgepress  # noqa: F401  (quiets jsii's Node banner before any module imports cdktf)
