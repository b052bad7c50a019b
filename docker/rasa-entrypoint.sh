#!/bin/sh
# Start the Rasa server of the container (docker/rasa.Dockerfile).
#
# docker/endpoints.yml takes the action server, tracker store and lock store
# from the environment; this script gives the non-secret settings their
# defaults for docker-compose.yml's network and refuses to start without the
# secrets, so a missing one fails here with a clear message.
# Arguments are passed on to `rasa run` (e.g. --debug).
set -eu

: "${QUITT_RASA_TOKEN:?QUITT_RASA_TOKEN must be set: it protects Rasa's HTTP API}"
: "${QUITT_TRACKER_DB_PASSWORD:?QUITT_TRACKER_DB_PASSWORD must be set: the tracker store's PostgreSQL password}"

export QUITT_ACTION_SERVER_URL="${QUITT_ACTION_SERVER_URL:-http://actions:5055/webhook}"
export QUITT_TRACKER_DB_HOST="${QUITT_TRACKER_DB_HOST:-postgres}"
export QUITT_TRACKER_DB_PORT="${QUITT_TRACKER_DB_PORT:-5432}"
export QUITT_TRACKER_DB_NAME="${QUITT_TRACKER_DB_NAME:-quitt}"
export QUITT_TRACKER_DB_USER="${QUITT_TRACKER_DB_USER:-quitt}"
export QUITT_LOCK_REDIS_HOST="${QUITT_LOCK_REDIS_HOST:-redis}"
export QUITT_LOCK_REDIS_PORT="${QUITT_LOCK_REDIS_PORT:-6379}"
export QUITT_LOCK_REDIS_DB="${QUITT_LOCK_REDIS_DB:-1}"
# Rasa's Redis ticket lock: how long a replica that died mid-turn blocks its
# conversation (Rasa's own default, 60 s, outlasts the gateway's wait).
export TICKET_LOCK_LIFETIME="${TICKET_LOCK_LIFETIME:-20}"

# nlu.server is Rasa's own CLI with the action-answer check compiled once (nlu/server.py).
exec python -m nlu.server run \
  --model /app/models/quitt.tar.gz \
  --endpoints /app/docker/endpoints.yml \
  --credentials bot/credentials.yml \
  --enable-api \
  --auth-token="$QUITT_RASA_TOKEN" \
  --interface 0.0.0.0 \
  --port 5005 \
  "$@"
