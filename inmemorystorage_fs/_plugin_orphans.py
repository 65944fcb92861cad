"""The pytest plugin's end-of-test orphans check: when each kind of test is checked.

A test function is checked as its teardown starts, before any fixture's
teardown (pytest-django's ``db`` rolls back, ``transactional_db`` empties the
tables). A Django test class runs its own teardown inside the call, so it is
checked in a cleanup, as ``InMemoryStorageMixin`` checks it.
"""

from __future__ import annotations

import unittest
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._layers import Layer
    from ._orphans import OrphanWatch

__all__ = ["DATABASE_FIXTURES", "check_before_teardown", "check_in_a_cleanup"]

#: pytest-django's fixtures that let a test use the database (so does its django_db marker).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
    | {"live_server"}
)


def check_in_a_cleanup(item: pytest.Item, layer: Layer) -> None:
    """Have a unittest test check *layer*'s orphans in a cleanup, before Django's teardown."""
    instance = getattr(item, "instance", None)
    if isinstance(instance, unittest.TestCase):
        from .testing import check_at_test_end

        check_at_test_end(instance, layer)


def check_before_teardown(item: pytest.Item, watch: OrphanWatch) -> Exception | None:
    """Run *watch*'s check for a test function that may use the database; return its error."""
    __tracebackhide__ = True
    if isinstance(getattr(item, "instance", None), unittest.TestCase):
        return None  # checked in its cleanup
    marked = item.get_closest_marker("django_db") is not None
    if not marked and DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return None  # no row can name its files
    try:
        watch.check()
    except Exception as exc:  # raised once pytest has torn the test down
        return exc
    return None
