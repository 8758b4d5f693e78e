#!/usr/bin/env bash
# Build the fem_assb runtime image once and reuse it: the tag is a hash of the Dockerfile
# and the package list, so the image is rebuilt only when one of them changes.
# Prints "<engine> <tag>" on stdout; build logs go to stderr.
#
# Engine: a working Docker daemon if there is one; otherwise podman (installed with
# apt-get when missing, run with --runtime runc). With podman and no image registry the
# base image localhost/debian:trixie is made from a debootstrap tree.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hash=$(cat "$top/docker/Dockerfile" "$top/docker/apt-packages.txt" | sha256sum | cut -c1-12)
tag="localhost/fem-assb-runtime:$hash"
log() { echo "[fem-assb image] $*" >&2; }

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=(docker)
  base_arg=()
else
  if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 \
     || ! command -v debootstrap >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { log "podman, runc and debootstrap are needed: run as root once, or install them"; exit 1; }
    log "installing podman, runc and debootstrap (apt-get)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      podman runc debootstrap ca-certificates >&2
  fi
  engine=(podman --runtime runc)
  base_arg=(--build-arg BASE=localhost/debian:trixie)
fi

exec 9>"${TMPDIR:-/tmp}/fem-assb-image.lock"
flock 9
if "${engine[@]}" image inspect "$tag" >/dev/null 2>&1; then
  echo "${engine[0]} $tag"
  exit 0
fi

if [ "${engine[0]}" = podman ] && ! podman image exists localhost/debian:trixie; then
  tree=$(mktemp -d "${TMPDIR:-/tmp}/fem-assb-trixie.XXXXXX")
  log "making base image localhost/debian:trixie with debootstrap (about a minute)"
  debootstrap --variant=minbase trixie "$tree" http://deb.debian.org/debian >&2
  tar -C "$tree" -c . | podman import - localhost/debian:trixie >&2
  rm -rf "$tree"
fi

# the host's CA bundle, for pip behind a TLS-intercepting proxy (podman build mounts it into RUN steps)
ca=()
[ "${engine[0]}" = podman ] && [ -f /etc/ssl/certs/ca-certificates.crt ] \
  && ca=(--volume /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro)
log "building $tag (first use only; a few minutes)"
"${engine[@]}" build --network=host "${base_arg[@]}" "${ca[@]}" -f "$top/docker/Dockerfile" -t "$tag" "$top" >&2
echo "${engine[0]} $tag"
