"""Check-ins in the database: save one (its picture only with consent), read a member's, delete a picture.

The only module that writes :class:`~facecoach.members.models.Checkin` and ``CheckinPicture`` rows, so
the consent rule lives in one place: a picture is stored only when ``picture`` is given, and the callers
give it only when the member ticked the box for that check-in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facecoach.members.models import Checkin, CheckinPicture
from facecoach.progress.checkin import CheckinMeasures
from facecoach.progress.noise import CheckinValues


@dataclass(frozen=True)
class KeptPicture:
    """A check-in's picture as stored: JPEG bytes and its 478 face landmarks (x, y in its pixels)."""

    jpeg: bytes
    points: list[list[float]]


def save_checkin(
    db: Session, user_id: int, measures: CheckinMeasures, source: str, picture: KeptPicture | None = None
) -> Checkin:
    row = Checkin(user_id=user_id, source=source, measures=measures.model_dump(mode="json"))
    db.add(row)
    db.flush()
    if picture is not None:
        points = [[round(float(x), 2), round(float(y), 2)] for x, y in picture.points]
        db.add(CheckinPicture(user_id=user_id, checkin_id=row.id, jpeg=picture.jpeg, points=points))
    db.commit()
    return row


def member_checkins(db: Session, user_id: int) -> list[Checkin]:
    """A member's check-ins, oldest first."""
    stmt = select(Checkin).where(Checkin.user_id == user_id).order_by(Checkin.created_at, Checkin.id)
    return list(db.scalars(stmt))


def measures_of(row: Checkin) -> CheckinMeasures | None:
    """The stored measures, validated (None for a row that does not validate: it is left out, not shown)."""
    try:
        return CheckinMeasures.model_validate(row.measures)
    except ValueError:
        return None


def noise_points(rows: Sequence[Checkin]) -> list[CheckinValues]:
    out = []
    for row in rows:
        m = measures_of(row)
        if m is not None:
            out.append(CheckinValues(row.created_at, m.values, m.spread, m.frames))
    return out


def reference_iris_px(db: Session, user_id: int) -> float | None:
    """The iris size of the member's first check-in: later check-ins are framed at the same distance."""
    for row in member_checkins(db, user_id):
        m = measures_of(row)
        if m is not None:
            return m.iris_px
    return None


def member_pictures(db: Session, user_id: int) -> dict[int, CheckinPicture]:
    """The member's kept pictures by check-in id."""
    stmt = select(CheckinPicture).where(CheckinPicture.user_id == user_id)
    return {p.checkin_id: p for p in db.scalars(stmt)}


def picture_of(db: Session, user_id: int, checkin_id: int) -> CheckinPicture | None:
    return db.scalar(
        select(CheckinPicture).where(
            CheckinPicture.user_id == user_id, CheckinPicture.checkin_id == checkin_id
        )
    )


def delete_picture(db: Session, user_id: int, checkin_id: int) -> bool:
    """Delete one check-in's picture (its measures stay); False when the member has no such picture."""
    result = db.execute(
        delete(CheckinPicture).where(
            CheckinPicture.user_id == user_id, CheckinPicture.checkin_id == checkin_id
        )
    )
    db.commit()
    return bool(getattr(result, "rowcount", 0))


def days_between(a: dt.datetime, b: dt.datetime) -> float:
    return abs((b - a).total_seconds()) / 86400.0
