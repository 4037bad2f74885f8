#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for owui-chaos: the Debian packages the lab and the tests
# use, the npm packages, a build, and a running Docker engine (for `--replicas-in docker`).
# Idempotent: installs only what is missing; starts dockerd only when no engine answers.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
# The dashboards test scrapes a real run with Debian's Prometheus.
[ -x /usr/bin/prometheus ] || need+=(prometheus)
# `ss` reads the bytes on a lab proxy's open connections (a fault that touched no traffic).
command -v ss >/dev/null 2>&1 || need+=(iproute2)
# The real Open WebUI lab: Postgres (the lab runs its own cluster), Python 3.11/3.12 for Open WebUI,
# Go to build the pinned toxiproxy-server once.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v python3.11 >/dev/null 2>&1 || command -v python3.12 >/dev/null 2>&1 || need+=(python3 python3-venv python3-pip)
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || need+=(golang-go)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian packages enable services at install; the lab runs its own instances on free ports.
for svc in nginx redis-server redis-sentinel postgresql prometheus; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done

echo "setup: npm ci"
npm ci --no-fund --no-audit --loglevel=error
echo "setup: build"
npm run build --silent

# Real Open WebUI (PyPI, pinned, cached in ~/.cache/owui-chaos or $OWUI_CHAOS_CACHE / $OWUI_CHAOS_HOME)
# and the pinned toxiproxy-server; a second run finds both and takes about a second.
if [ "${OWUI_CHAOS_NO_REAL_OPENWEBUI:-}" = "1" ]; then
  echo "setup: skipping the real Open WebUI install (OWUI_CHAOS_NO_REAL_OPENWEBUI=1); real-lab tests will be skipped"
else
  echo "setup: lab install (Open WebUI from PyPI, toxiproxy-server)"
  [ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
  GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" ./bin/run.js lab install
fi

if ! docker info >/dev/null 2>&1; then
  if [ "${OWUI_CHAOS_NO_DOCKERD:-}" = "1" ]; then
    echo "setup: no Docker engine (OWUI_CHAOS_NO_DOCKERD=1); docker-mode tests will be skipped"
  else
    echo "setup: starting dockerd"
    $SUDO sh -c 'nohup dockerd >/var/log/owui-chaos-dockerd.log 2>&1 &'
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/owui-chaos-dockerd.log" >&2; exit 1; }
  fi
fi
echo "setup: done"
