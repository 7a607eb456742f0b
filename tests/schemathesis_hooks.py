"""Schemathesis hooks of the served run: the check that keeps "schema-valid" honest.

`positive_data_acceptance` is told (schemathesis.toml) that 422 may answer a schema-valid
request, because some rules of the books cannot be written in JSON Schema. This check makes
sure such a 422 is one of those rules and never a payload the schema allowed but the service
refused as malformed: that would be a rule missing from the schema.
"""

from __future__ import annotations

import json

import schemathesis
from schemathesis import Case, CheckContext, Response

# The problem types a schema-valid request may get: rules of the books JSON Schema cannot say.
RULES_OF_THE_BOOKS = frozenset(
    {
        "unbalanced-entry",  # the sum of the lines
        "entries-refused",  # the same rules, for the entries of a batch
        "unknown-account",  # what the ledger holds
        "inactive-account",
        "unknown-journal",
        "invalid-amount",  # exact in the ledger's currency, within a line's largest amount
        "invalid-cursor",  # a cursor this service issued for this list
        "invalid-date-range",  # from not after to
        "invalid-reversal-date",  # not before the reversed entry
        "no-fiscal-year",  # a date within the ledger's fiscal years
        "invalid-fiscal-year",  # a first year ends on a month's last day, 6 to 24 months on
        "idempotency-key-reused",
        "invalid-identifier",  # a SIREN's or VAT number's check digits
        "invalid-collective",  # which accounts can be collective: 42x to 46x, not 401 or 411
        "unknown-third-party",  # what the ledger holds
        "not-a-collective-account",
        "third-party-account-mismatch",
        "third-party-required",
        "drafts-refused",  # the rules of a posting, for drafts validated together
        "import-refused",  # the FEC's and the CSV layout's rules, for a file's text
        "unknown-line",  # a match's lines: lines of the account the ledger holds
        "draft-line",  # of validated entries
        "match-third-party-mismatch",  # of one third party
        "unbalanced-match",  # summing to zero
        "invalid-match-date",  # dated no earlier than its latest line
    }
)


@schemathesis.check
def refused_only_by_a_rule_of_the_books(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """A schema-valid request refused with 400 or 422 names a rule of the books."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} without a problem body") from None
    kind = problem.get("type") if isinstance(problem, dict) else None
    if response.status_code == 400 or kind not in RULES_OF_THE_BOOKS:
        raise AssertionError(
            f"a schema-valid request was refused as {kind!r} ({response.status_code}): "
            f"{problem.get('detail') if isinstance(problem, dict) else problem}; the schema "
            "should say so"
        )
    return True
