# The engine image: `dialer run --config /etc/dialer/config.toml`.
#
#   docker build -t asterisk-dialer .
#   docker run --rm -p 9108:9108 \
#       -v $PWD/config.toml:/etc/dialer/config.toml:ro \
#       -e DIALER_DSN=postgresql://dialer:...@db/dialer -e PBX1_AMI_SECRET=... \
#       --stop-timeout 70 asterisk-dialer
#
# SIGTERM (docker stop) drains: no new calls, calls in progress get engine.drain_timeout_s
# (60 s by default), then leases are released; give `--stop-timeout` a little more than that.
# Without DIALER_DSN the embedded PostgreSQL runs inside the container with its data in the
# /var/lib/dialer volume (PostgreSQL refuses to run as root: one more reason for USER below).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system dialer \
    && useradd --system --gid dialer --home-dir /var/lib/dialer --create-home --shell /usr/sbin/nologin dialer

WORKDIR /src
COPY pyproject.toml README.md ./
COPY ami ./ami
COPY config ./config
COPY dialer ./dialer
COPY pacing ./pacing
RUN pip install . && rm -rf /src/build

# An example configuration; mount your own over it (secrets come from the environment).
COPY config/example.toml /etc/dialer/config.toml

USER dialer
WORKDIR /var/lib/dialer
ENV DIALER_HOME=/var/lib/dialer \
    DIALER_LOG_FORMAT=json \
    DIALER_METRICS_HOST=0.0.0.0 \
    DIALER_METRICS_PORT=9108 \
    DIALER_API_HOST=0.0.0.0
VOLUME ["/var/lib/dialer"]
EXPOSE 9108 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ['DIALER_METRICS_PORT'], timeout=4)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["dialer"]
CMD ["run", "--config", "/etc/dialer/config.toml"]
