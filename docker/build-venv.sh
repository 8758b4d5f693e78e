#!/usr/bin/env bash
# The wheel runtime: a Python virtual environment with DOLFINx 0.11 from the dolfinx-solver-real
# wheel (PETSc with MUMPS and SuperLU_DIST, no hypre; MPICH from the mpich wheel) and this project
# installed into it with `pip install -e .[test]` — the README's pip route, done once and reused.
# The folder is named after a hash of this file and pyproject.toml, so it is remade only when
# one of them changes. Prints the environment's bin folder on stdout; logs go to stderr.
#
# Needs Python ≥ 3.12: python3.13 / python3.12 on PATH, pyenv's, or python3 itself. Exits 3
# when there is none (CI reports that version as skipped).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "[fem-assb venv] $*" >&2; }
fenicsx="dolfinx-solver-real==0.11.0.post0"

python=""
for p in python3.13 python3.12 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 python3; do
  p=$(command -v "$p" 2>/dev/null) || continue
  if "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then python=$p; break; fi
done
if [ -z "$python" ]; then
  log "no Python >= 3.12 here (the $fenicsx wheel needs one)"
  exit 3
fi

hash=$( (cat "${BASH_SOURCE[0]}" "$top/pyproject.toml"; echo "$top $python") | sha256sum | cut -c1-12)
root=${FEM_ASSB_VENVS:-$HOME/.cache/fem-assb}
venv="$root/venv-$hash"
mkdir -p "$root"
exec 9>"$root/venv.lock"
flock 9
if [ -f "$venv/.complete" ]; then
  echo "$venv/bin"
  exit 0
fi
rm -rf "$venv"  # an earlier attempt that did not finish
log "making $venv with $($python --version) (first use only; about a minute; log: $venv.log)"
{
  "$python" -m venv "$venv" \
  && "$venv/bin/python" -m pip install -q --upgrade pip \
  && "$venv/bin/python" -m pip install -q "$fenicsx" \
  && "$venv/bin/python" -m pip install -q -e "$top[test]" \
  && "$venv/bin/python" -c "import mpi4py.MPI, dolfinx, fem_assb"
} >"$venv.log" 2>&1 || { tail -20 "$venv.log" >&2; log "failed: see $venv.log"; exit 1; }
touch "$venv/.complete"
echo "$venv/bin"
