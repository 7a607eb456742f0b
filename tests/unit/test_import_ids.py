"""The ids an import gives its entries: UUIDv7 still, in the file's order, none twice."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from uuid6 import uuid7

from grandlivre.exchange.importer import entry_ids

LOW = (1 << 62) - 1


@given(low=st.integers(min_value=0, max_value=LOW), count=st.integers(min_value=1, max_value=500))
def test_import_ids_are_increasing_uuid7s(low: int, count: int) -> None:
    first = uuid.UUID(int=(uuid7().int & ~LOW) | low)
    ids = entry_ids(first, count)
    assert len(set(ids)) == count
    assert ids == sorted(ids)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    # The high bits (the millisecond and the first random bits) are the first id's.
    assert {i.int >> 62 for i in ids} == {first.int >> 62}
