#!/usr/bin/env bash
# Execute the notebooks (fail on the first error) against the metarepro binary, in a virtual
# environment target/nbvenv that is created on first use and reused after; the packages are
# (re)installed only when notebooks/requirements.txt changes. Executed copies go to
# target/notebooks/ (never back into notebooks/).
#
#   notebooks/run.sh                      # both notebooks
#   notebooks/run.sh notebooks/01_*.ipynb # some of them
#   notebooks/run.sh --setup              # only create the environment (CI does it while it builds)
#
# Environment: METAREPRO_BIN (the binary; default target/release/metarepro, else
# target/debug/metarepro, else built with `cargo build`), PYTHON (default python3).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/target/nbvenv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum notebooks/requirements.txt | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "== installing notebooks/requirements.txt into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
  echo "$WANT" >"$STAMP"
fi
if [ "${1:-}" = "--setup" ]; then
  echo "== $VENV is ready"
  exit 0
fi

if [ -z "${METAREPRO_BIN:-}" ]; then
  if [ -x target/release/metarepro ]; then
    METAREPRO_BIN="$ROOT/target/release/metarepro"
  else
    if [ ! -x target/debug/metarepro ]; then
      cargo build --bin metarepro
    fi
    METAREPRO_BIN="$ROOT/target/debug/metarepro"
  fi
fi
export METAREPRO_BIN
echo "== notebooks with $METAREPRO_BIN"

if [ "$#" -eq 0 ]; then
  set -- notebooks/*.ipynb
fi
mkdir -p target/notebooks
"$VENV/bin/python" - "$ROOT" "$@" <<'PY'
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

root = Path(sys.argv[1])
passed, failed = 0, 0
for name in sys.argv[2:]:
    path = Path(name)
    nb = nbformat.read(path, as_version=4)
    start = time.time()
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=False, resources={"metadata": {"path": str(root)}}
    )
    out = root / "target/notebooks" / path.name
    try:
        client.execute()
        passed += 1
        print(f"ok     {path} ({len(nb.cells)} cells, {time.time() - start:.1f} s)")
    except CellExecutionError as e:
        failed += 1
        print(f"FAILED {path}\n{e}")
    finally:
        nbformat.write(nb, out)  # the executed copy, for reading; notebooks/ stays output-free
print(f"notebooks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
