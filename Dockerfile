# One image for every Fleet process: migrations, workers, beat, Flower, the sandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY fleet ./fleet
COPY packages ./packages
RUN pip install ./packages/fleet-sandbox '.[ops,demo]' && useradd --create-home fleet
USER fleet

CMD ["fleet", "--help"]
