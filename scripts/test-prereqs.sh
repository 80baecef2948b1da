#!/usr/bin/env bash
# Brings what the tests need: a real OCI registry (docker-registry), skopeo, git and chromium.
# As root it installs them with apt-get; otherwise it prints the command to run.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v git >/dev/null || missing+=(git)
[ -x /usr/bin/chromium ] || missing+=(chromium) # the dashboard's browser tests (playwright-core drives it)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server) # the GitOps writer's ssh:// test runs its own sshd on a loopback port
/usr/bin/python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml) # YAML 1.1 read-back of what Forge writes (test/yaml-out)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "The tests need: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
