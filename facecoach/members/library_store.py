"""The app's library = the YAML files (the seed) + the instructor's validated edits stored in the DB.

An edit is validated against the library it lands in, with the knowledge base's own rules
(``validate_technique`` / ``validate_claim`` and ``Library.with_*``); a refused edit changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facecoach.knowledge import KnowledgeError, Library, load_library, validate_claim, validate_technique
from facecoach.members.models import LibraryEdit, utcnow

log = logging.getLogger(__name__)


def _apply(base: Library, edits: list[LibraryEdit]) -> Library:
    library = base
    for edit in sorted(edits, key=lambda e: (e.kind != "technique", e.id)):
        try:
            if edit.kind == "technique":
                library = library.with_technique(validate_technique(edit.data, library))
            else:
                library = library.with_claim(validate_claim(edit.data, library))
        except KnowledgeError as exc:  # the YAML changed under an old edit: the YAML wins
            log.warning("stored %s edit %s no longer valid, ignored: %s", edit.kind, edit.entry_id, exc)
    return library


class LibraryStore:
    """Caches the merged library; any process sees another's edits through the edit count/time stamp."""

    def __init__(self, base: Library | None = None) -> None:
        self._base = base
        self._lock = threading.Lock()
        self._key: tuple[int, str] | None = None
        self._library: Library | None = None

    @property
    def base(self) -> Library:
        if self._base is None:
            self._base = load_library()
        return self._base

    def current(self, db: Session) -> Library:
        count, latest = db.execute(select(func.count(LibraryEdit.id), func.max(LibraryEdit.updated_at))).one()
        key = (int(count), str(latest))
        with self._lock:
            if self._library is not None and self._key == key:
                return self._library
        edits = list(db.scalars(select(LibraryEdit)))
        library = _apply(self.base, edits)
        with self._lock:
            self._key, self._library = key, library
        return library

    def save(self, db: Session, kind: str, data: Mapping[str, Any], user_id: int | None) -> str:
        """Validate then store (the caller commits); raises :class:`KnowledgeError` naming the field."""
        library = self.current(db)
        if kind == "technique":
            technique = validate_technique(data, library)
            library.with_technique(technique)  # whole-library rules (e.g. every exercise has a release)
            entry_id, stored = technique.id, technique.model_dump(mode="json")
        elif kind == "claim":
            claim = validate_claim(data, library)
            library.with_claim(claim)
            entry_id, stored = claim.id, claim.model_dump(mode="json")
        else:
            raise KnowledgeError(f"unknown kind of entry '{kind}'")
        row = db.scalar(select(LibraryEdit).where(LibraryEdit.kind == kind, LibraryEdit.entry_id == entry_id))
        if row is None:
            db.add(LibraryEdit(kind=kind, entry_id=entry_id, data=stored, updated_by=user_id))
        else:
            row.data = stored
            row.updated_at = utcnow()
            row.updated_by = user_id
        db.flush()
        return entry_id

    def is_edited(self, db: Session, kind: str, entry_id: str) -> bool:
        return (
            db.scalar(
                select(LibraryEdit.id).where(LibraryEdit.kind == kind, LibraryEdit.entry_id == entry_id)
            )
            is not None
        )

    def revert(self, db: Session, kind: str, entry_id: str) -> bool:
        row = db.scalar(select(LibraryEdit).where(LibraryEdit.kind == kind, LibraryEdit.entry_id == entry_id))
        if row is None:
            return False
        db.delete(row)
        db.flush()
        return True
