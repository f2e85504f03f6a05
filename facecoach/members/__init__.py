"""Members: accounts, membership plans, payments interface, database models and migrations.

``record_session(db, member_id, summary)`` is how live coaching saves a practice session.
"""

from facecoach.members.practice import SessionSummaryError, record_session

__all__ = ["SessionSummaryError", "record_session"]
