from tests.members.dbs import _cheap_password_hashing, database_url, migrated, pg_worker_db  # noqa: F401
from tests.reliability.support import redis_url  # noqa: F401
from tests.web.fixtures import site, sqlite_site  # noqa: F401
