# chartfix in a container: the one image for a Kubernetes Indexed Job or a CI matrix
# (deploy/). Helm's engine comes inside helm-python-sdk's wheel (no helm binary, no
# download at run time); git clones, commits and pushes. Runs as a non-root user (UID
# 10001, numeric so that Kubernetes' runAsNonRoot can check it).
#
#   docker build -t chartfix .
#   docker run --rm -v "$PWD:/work" chartfix bulk charts/ --report report.json
FROM python:3.12-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md /src/
COPY chartfix /src/chartfix
COPY recipes /src/recipes
RUN pip install --no-cache-dir /src && rm -rf /src

RUN useradd --create-home --uid 10001 --user-group chartfix
USER 10001
WORKDIR /work
# One plain line per chart in logs (no progress bar), output not held back.
ENV CI=1 PYTHONUNBUFFERED=1

ENTRYPOINT ["chartfix"]
CMD ["--help"]
