"""The audit's decoding thread: order kept, errors handed over, an early stop does not hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from facecoach.coaching.audit import AuditError, read_ahead


def test_items_arrive_in_order() -> None:
    assert list(read_ahead(iter(range(100)), 4)) == list(range(100))


def test_an_error_in_the_producer_reaches_the_consumer() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise AuditError("too long")

    got = []
    with pytest.raises(AuditError, match="too long"):
        for x in read_ahead(items(), 2):
            got.append(x)
    assert got == [1]


def test_stopping_early_stops_the_thread() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    before = threading.active_count()
    stream = read_ahead(endless(), 2)
    assert next(stream) == 0
    t0 = time.monotonic()
    stream.close()
    assert time.monotonic() - t0 < 2.0
    assert threading.active_count() == before
