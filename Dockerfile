# One image for web, worker and beat: each compose service runs `honcho start <process>`
# from the same Procfile that `make run` uses.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    BIND=0.0.0.0:8000

WORKDIR /app
RUN groupadd --system --gid 1000 ssp \
    && useradd --system --uid 1000 --gid ssp --home-dir /app --shell /usr/sbin/nologin ssp

# pg_dump for the nightly backup, from the same major version as the compose database.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
# Static files are collected into the image (whitenoise serves them, hashed and
# compressed). No database or Redis is reachable at build time, and none is needed.
RUN SECRET_KEY=collectstatic-only USE_CELERY_WORKER=false \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/media var/backups \
    && chown -R ssp:ssp var

USER ssp
EXPOSE 8000
CMD ["honcho", "start", "web"]
