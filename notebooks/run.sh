#!/usr/bin/env bash
# npm run notebooks: executes the notebooks headless against the demo bundle.
#   npm run notebooks                              all notebooks; fails when any cell fails
#   npm run notebooks -- 2.0-compare-segments.ipynb  some of them
#   npm run notebooks -- --strip                   only strip outputs from the notebooks
# It installs notebooks/package.json (tslab, danfojs) when needed, registers the tslab kernel in
# notebooks/.jupyter, trains the demo bundle when models/ has none that loads, strips outputs from
# the notebooks (they are committed without), runs each in its own kernel with a per-cell timeout
# (NOTEBOOK_CELL_TIMEOUT, default 300 s) and writes the executed copies to notebooks/output/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# The Debian Python that has Jupyter: the python3 first on PATH may be another one without it.
python=/usr/bin/python3
started=$SECONDS

strip_only=0
notebooks=()
for arg in "$@"; do
  case "$arg" in
    --strip) strip_only=1 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "notebooks: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) notebooks+=("$(basename "$arg")") ;;
  esac
done
cd "$here"
[ ${#notebooks[@]} -gt 0 ] || notebooks=(*.ipynb)

if ! "$python" -c 'import nbclient, nbformat, ipykernel, jupyter_client' 2>/dev/null; then
  echo "notebooks: $python has no Jupyter; install the Debian packages:" >&2
  echo "  apt-get install jupyter-notebook python3-nbconvert python3-nbclient python3-ipykernel jupyter-nbconvert" >&2
  exit 1
fi
if [ "$strip_only" -eq 1 ]; then
  exec "$python" execute.py --strip-only --output output "${notebooks[@]}"
fi
if [ ! -d "$root/node_modules/tsx" ]; then
  echo "notebooks: the pipeline's packages are not installed; run npm ci in $root first" >&2
  exit 1
fi

# The notebook-only packages, from notebooks/package-lock.json, when missing or older than the lock.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci (notebooks/)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The kernel is registered inside this checkout, so each checkout (and CI's clone) runs its own tslab.
kernels="$here/.jupyter"
binary="$here/node_modules/.bin/tslab"
if ! grep -qF "\"$binary\"" "$kernels/share/jupyter/kernels/tslab/kernel.json" 2>/dev/null; then
  echo "== registering the tslab kernel in notebooks/.jupyter"
  node_modules/.bin/tslab install --python="$python" --binary="$binary" --prefix="$kernels" >/dev/null
fi
export JUPYTER_PATH="$kernels/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"

# The demo bundle and data, unless the notebooks are pointed at other inputs.
if [ -z "${FINSEG_MODEL:-}${FINSEG_TRAIN_DATA:-}${FINSEG_NEW_DATA:-}" ]; then
  cd "$root"
  reason=""
  if [ ! -f models/latest ] && [ ! -f models/production ]; then
    reason="no model bundle in models/"
  elif [ ! -d data/generated/demo/train ] || [ ! -d data/generated/demo/new ]; then
    reason="no demo data in data/generated/demo/"
  elif ! problem="$(node notebooks/lib/check-bundle.mjs models 2>&1)"; then
    reason="the bundle in models/ does not load with this code: $problem"
  fi
  if [ -n "$reason" ]; then
    echo "== finseg demo ($reason)"
    node bin/finseg.mjs demo --quiet
  fi
  cd "$here"
fi

echo "== executing ${#notebooks[@]} notebooks (cell timeout ${NOTEBOOK_CELL_TIMEOUT:-300} s)"
status=0
"$python" execute.py --timeout "${NOTEBOOK_CELL_TIMEOUT:-300}" --output output "${notebooks[@]}" || status=$?
echo "notebooks: $((SECONDS - started)) s in all"
exit "$status"
