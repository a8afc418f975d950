# Sourced by dist_train.sh, dist_test.sh and slurm_train.sh: sets ROOT (the
# repository) and PYTHON, the project's Python: $PYTHON when set, else the
# repository's .venv/bin/python when present (make install creates it), else
# python from PATH.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "$PYTHON" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then
        PYTHON="$ROOT/.venv/bin/python"
    else
        PYTHON=python
    fi
fi
