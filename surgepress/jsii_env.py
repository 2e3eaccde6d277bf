"""Settings that must be in place before jsii (cdktf's runtime) first starts."""

from __future__ import annotations

import os

# Node 20 is past its end of life for jsii, which prints a large banner on every start.
# The build works on it; name the majors whose banner we accept so newer ones still warn.
EOL_NODE_MAJORS_ACCEPTED = "18,20"


def quiet_jsii() -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", EOL_NODE_MAJORS_ACCEPTED)
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
