"""The app's library = YAML + the instructor's validated edits in the database."""

from __future__ import annotations

import pytest

from facecoach.knowledge import KnowledgeError, load_library
from facecoach.members.db import Database
from facecoach.members.library_store import LibraryStore
from facecoach.members.models import LibraryEdit


def _first(kind: str) -> dict[str, object]:
    lib = load_library()
    entry = next(t for t in lib.techniques.values() if t.kind == kind)
    return entry.model_dump(mode="json")


def test_valid_edit_is_stored_and_seen_by_another_process(migrated: Database) -> None:
    data = _first("massage")
    data["summary"] = "Edited in the browser: a calmer summary."
    store = LibraryStore()
    with migrated.session() as s:
        assert store.save(s, "technique", data, None) == data["id"]
    with migrated.session() as s:
        assert store.current(s).techniques[str(data["id"])].summary == data["summary"]
        # A second store (another worker process) reads the same edit from the database.
        assert LibraryStore().current(s).techniques[str(data["id"])].summary == data["summary"]
        assert store.revert(s, "technique", str(data["id"]))
    with migrated.session() as s:
        assert (
            store.current(s).techniques[str(data["id"])].summary
            == load_library().techniques[str(data["id"])].summary
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "dance"}, "kind"),
        ({"steps": ["only one"]}, "steps"),
        ({"targets": ["no-such-muscle"]}, "targets"),
    ],
)
def test_bad_edit_is_refused_with_the_field_and_nothing_saved(
    migrated: Database, change: dict[str, object], field: str
) -> None:
    data = {**_first("exercise"), **change}
    store = LibraryStore()
    with migrated.session() as s:
        with pytest.raises(KnowledgeError) as info:
            store.save(s, "technique", data, None)
        assert info.value.field is not None and info.value.field.startswith(field)
        s.rollback()
    with migrated.session() as s:
        assert s.query(LibraryEdit).count() == 0


def test_claim_edit(migrated: Database) -> None:
    lib = load_library()
    claim = next(iter(lib.claims.values())).model_dump(mode="json")
    claim["explanation"] = "Rewritten by the instructor."
    store = LibraryStore()
    with migrated.session() as s:
        store.save(s, "claim", claim, None)
    with migrated.session() as s:
        assert store.current(s).claims[str(claim["id"])].explanation == "Rewritten by the instructor."
        with pytest.raises(KnowledgeError, match="verdict"):
            store.save(s, "claim", {**claim, "verdict": "maybe"}, None)
