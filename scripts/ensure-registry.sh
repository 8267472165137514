#!/usr/bin/env bash
# Makes sure the CNCF Distribution registry (Debian package `docker-registry`) is
# installed: the demo and the tests start it on 127.0.0.1 themselves.
set -euo pipefail
if command -v docker-registry >/dev/null 2>&1 || [ -n "${REGSWEEP_REGISTRY_BIN:-}" ]; then
  exit 0
fi
echo "installing docker-registry (the CNCF Distribution server) with apt-get…" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker-registry >&2
# The package ships a systemd unit; regsweep never uses it (policy-rc.d may refuse to start it).
command -v docker-registry >/dev/null
