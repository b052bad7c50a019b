# syntax=docker/dockerfile:1
# The app runtime (Python 3.11): one image for the gateway, the action server
# and the one-off migration job; docker-compose.yml gives each its command.
#
#   docker build -f docker/app.Dockerfile -t quitt-app .
#   gateway (default):  uvicorn api.main:create_app --factory --host 0.0.0.0 --port 8000
#   action server:      python -m rasa_sdk --actions actions --port 5055
#   migrations:         quitt db upgrade

# --- the project and its dependencies, in a stage that may compile wheels -----
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api/ api/
COPY domain/ domain/
COPY actions/ actions/
COPY policy/ policy/
COPY nlu/ nlu/
COPY voice/ voice/
RUN /opt/venv/bin/pip install .

# --- runtime ------------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 quitt \
 && useradd --system --uid 10001 --gid quitt --home-dir /app --shell /usr/sbin/nologin quitt
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The source tree as well, on PYTHONPATH: the code then finds alembic.ini, the
# shipped policy and the demo claims where it does in a checkout (domain.config.ROOT).
COPY alembic.ini ./
COPY api/ api/
COPY domain/ domain/
COPY actions/ actions/
COPY policy/ policy/
COPY nlu/ nlu/
COPY voice/ voice/
COPY data/ data/
RUN mkdir -p /app/var && chown quitt:quitt /app/var
USER 10001:10001
EXPOSE 8000 5055
# Checks the gateway; the action server's container overrides it (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["uvicorn", "api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
