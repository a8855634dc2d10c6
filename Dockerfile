# One image for every Fleet process: migrations, workers, beat, Flower, the sandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY fleet ./fleet
COPY packages ./packages
# FLEET_EXTRAS: the extras installed (pyproject.toml). The default image runs every process
# (console, provenance, statistics, the sandbox, Flower); the ticks and engage workers'
# image is built with FLEET_EXTRAS empty, fleet alone (docker-compose.yml's fleet-workers
# image; docs/operations.md, "Images").
ARG FLEET_EXTRAS=ops,demo
RUN case ",${FLEET_EXTRAS}," in *,demo,*) sandbox=./packages/fleet-sandbox ;; *) sandbox= ;; esac \
    && pip install $sandbox ".${FLEET_EXTRAS:+[$FLEET_EXTRAS]}" && useradd --create-home fleet
USER fleet

CMD ["fleet", "--help"]
