"""Сбои (README): what the portal does when Redis stops (test_redis_stopped.py), when a worker is killed in the middle
of a job (test_worker_killed.py), and when PostgreSQL drops a request's connection (test_connection_dropped.py).
Each test's name states the behaviour: `pytest tests/faults -v` reads as the list, and `make test` runs them. The
tests that stop Redis need a redis-server on PATH and start their own; the ones that kill a worker process or a
database connection need PostgreSQL."""
