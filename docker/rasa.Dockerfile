# syntax=docker/dockerfile:1
# The Rasa server: rasa 3.6.21 needs Python 3.10, so it has its own image
# (requirements/rasa.txt), apart from the Python 3.11 app image.
#
#   docker build -f docker/rasa.Dockerfile -t quitt-rasa .
#       trains the model during the build (the Makefile's model target);
#   docker build -f docker/rasa.Dockerfile --build-arg MODEL=prebuilt -t quitt-rasa .
#       takes models/quitt.tar.gz from the build context instead (`make train`).
# Needs BuildKit (the default of `docker build` and `docker compose`), which
# builds only the model stage that MODEL selects.
ARG MODEL=train

# --- dependencies, in a stage that may compile wheels ------------------------
FROM python:3.10-slim AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/rasa.txt /tmp/requirements/rasa.txt
RUN /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install -r /tmp/requirements/rasa.txt

# --- runtime: Rasa, the custom NLU components and the bot --------------------
FROM python:3.10-slim AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/app \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TF_ENABLE_ONEDNN_OPTS=0
RUN groupadd --system --gid 10001 quitt \
 && useradd --system --uid 10001 --gid quitt --home-dir /app --shell /usr/sbin/nologin quitt
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
RUN mkdir -p /app/models && chown quitt:quitt /app /app/models
# Rasa loads the custom NLU components (nlu/) from PYTHONPATH=/app.
COPY nlu/ nlu/
COPY bot/ bot/

# --- the model: trained here (MODEL=train) ... --------------------------------
FROM base AS model-train
USER 10001:10001
# The Makefile's model target; the training cache is dropped afterwards.
RUN rasa train --config bot/config.yml --domain bot/domain --data bot/data \
      --out models --fixed-model-name quitt \
 && test -s models/quitt.tar.gz \
 && rm -rf .rasa .config .cache

# --- ... or pre-built (MODEL=prebuilt) ----------------------------------------
FROM base AS model-prebuilt
COPY --chown=quitt:quitt models/quitt.tar.gz models/quitt.tar.gz

# --- the image ----------------------------------------------------------------
# hadolint ignore=DL3006
FROM model-${MODEL}
COPY docker/endpoints.yml docker/rasa-entrypoint.sh /app/docker/
USER 10001:10001
EXPOSE 5005
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
ENTRYPOINT ["/bin/sh", "/app/docker/rasa-entrypoint.sh"]
