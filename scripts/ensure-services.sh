#!/usr/bin/env bash
# Start the PostgreSQL and Redis servers the tests talk to, when this machine has them but they are down.
# Harmless when they already run. Tests that need a server skip with a reason if it cannot be reached.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432 && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 6379 && command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
fi
for i in $(seq 1 20); do up 5432 && break; sleep 0.5; done
up 5432 && echo "postgresql: up" || echo "postgresql: not available"
up 6379 && echo "redis: up" || echo "redis: not available"
exit 0
