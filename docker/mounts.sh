#!/usr/bin/env bash
# The folders the runtime image must see, as container-engine arguments, one per line:
#   docker/mounts.sh TOP ARG...
# the checkout TOP, /tmp, the working folder, FEM_ASSB_CACHE and, for every argument that names a
# path (also as --key=PATH), its nearest existing folder — each at its own path, so that a results
# folder outside the checkout is written on the host, not inside the container and lost with it.
# System folders (/usr, /etc, /var …) are never mounted over the image's own: a warning instead.
set -euo pipefail
top=$1
shift
mounted=()
inside() { local m; for m in "${mounted[@]}"; do case "$1/" in "$m"/*) return 0 ;; esac; done; return 1; }
mount_dir() {
  inside "$1" && return 0
  case "$1/" in
    //|/usr/*|/etc/*|/bin/*|/sbin/*|/lib/*|/lib64/*|/proc/*|/sys/*|/dev/*|/opt/*|/run/*|/boot/*|/var/*)
      echo "fem-assb: warning: $1 is a system folder, not visible in the runtime image" >&2; return 0 ;;
  esac
  printf -- '-v\n%s:%s\n' "$1" "$1"
  mounted+=("$1")
}
mount_dir "$top"
mount_dir /tmp
mount_dir "$PWD"
if [ -n "${FEM_ASSB_CACHE:-}" ]; then
  mkdir -p "$FEM_ASSB_CACHE"
  mount_dir "$(realpath -m -s -- "$FEM_ASSB_CACHE")"
fi
for arg in "$@"; do
  arg=${arg#--*=}
  case "$arg" in */*) ;; *) continue ;; esac
  dir=$(realpath -m -s -- "$arg")
  while [ ! -d "$dir" ]; do dir=$(dirname -- "$dir"); done
  mount_dir "$dir"
done
