"""IAM condition operators, judged as IAM's condition-operator reference describes them.

Shared by the emulator's shims (bucket policies, replication and tracing roles) and the
platform's policy rules: condition keys match whatever their case (values keep theirs); a key
missing from the request matches no positive operator, while a negated one (StringNotEquals,
StringNotLike, ArnNotEquals, ArnNotLike) and any ...IfExists operator hold for it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase


def _as_list(value) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


OPERATORS = {
    "StringEquals": lambda actual, expected: actual in expected,
    "StringNotEquals": lambda actual, expected: actual not in expected,
    "StringLike": lambda actual, expected: any(fnmatchcase(actual, e) for e in expected),
    "StringNotLike": lambda actual, expected: not any(fnmatchcase(actual, e) for e in expected),
    "ArnEquals": lambda actual, expected: actual in expected,
    "ArnNotEquals": lambda actual, expected: actual not in expected,
    "ArnLike": lambda actual, expected: any(fnmatchcase(actual, e) for e in expected),
    "ArnNotLike": lambda actual, expected: not any(fnmatchcase(actual, e) for e in expected),
    "Bool": lambda actual, expected: actual.lower() in [e.lower() for e in expected],
}
NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(condition: dict, context: dict[str, str]) -> bool | None:
    """True/False as IAM decides; None when an operator is not known here (moto's own rule applies)."""
    present = {key.lower(): value for key, value in context.items()}
    for operator, entries in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        check = OPERATORS.get(base)
        if check is None:
            return None
        for key, expected in entries.items():
            if key.lower() not in present:
                if if_exists or base in NEGATED:
                    continue
                return False
            if not check(present[key.lower()], _as_list(expected)):
                return False
    return True
