# The register portal for production: gunicorn + whitenoise; the same image runs the Celery worker and beat
# (see docker-compose.yml). Build: docker build -t edinyi-reestr .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# pg_dump and pg_restore for `manage.py backup_create` / `backup_restore` (README, «Резервные копии»). They must be
# at least the server's major version (docker-compose.yml: postgres:16), which Debian's own client need not be,
# hence the PostgreSQL project's apt repository.
ARG PG_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-${PG_MAJOR} \
    && rm -rf /var/lib/apt/lists/*
ENV PG_BIN_DIR=/usr/lib/postgresql/${PG_MAJOR}/bin

# Dependencies first, so that a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Hashed, compressed static files served by whitenoise; settings refuse to start without a real SECRET_KEY.
ENV STATIC_MANIFEST=1 \
    DJANGO_REQUIRE_SECRET_KEY=1 \
    MEDIA_ROOT=/app/media \
    BACKUP_DIR=/app/backups
RUN SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput --verbosity 0

# Unprivileged user; media, backups and the beat schedule are the only places it writes (volumes in
# docker-compose.yml).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin reestr \
    && mkdir -p /app/media /app/var /app/backups \
    && chown reestr:reestr /app/media /app/var /app/backups
USER reestr

EXPOSE 8000
# Port, timeout and an access log without query strings: config/gunicorn.py. Workers: WEB_CONCURRENCY (gunicorn reads
# it itself; docker-compose.yml sets 3).
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
