from tests.members.dbs import _cheap_password_hashing, database_url, migrated, pg_worker_db  # noqa: F401
