"""Un-assumed credentials act in the operator's account, not moto's 123456789012.

moto resolves a request's account from its access key and falls back to a module-level
default for keys it never issued (like the emulator's static operator key). The operator
identity belongs in the management account, where the state lives; every workspace is
then reached by assuming its role, exactly as on AWS. (moto's MOTO_ACCOUNT_ID would
instead force *every* request, assumed or not, into one account.)
"""

from __future__ import annotations

import os

ENV = "SURGEPRESS_OPERATOR_ACCOUNT_ID"


def install() -> None:
    account_id = os.environ.get(ENV)
    if not account_id:
        return
    import moto.iam.models as iam_models

    iam_models.DEFAULT_ACCOUNT_ID = account_id
