#!/usr/bin/env bash
# Spark GPU discovery script (spark.{executor,worker}.resource.gpu.discoveryScript).
# Prints the resource JSON Spark expects: {"name": "gpu", "addresses": ["0", "1", ...]}.
# Honours CUDA_VISIBLE_DEVICES when set (e.g. by a container runtime), else asks nvidia-smi.
set -euo pipefail
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ] && [ "${CUDA_VISIBLE_DEVICES}" != "NoDevFiles" ]; then
  ids=$(tr ',' '\n' <<<"$CUDA_VISIBLE_DEVICES")
elif command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader)
else
  ids=""
fi
addresses=$(printf '%s\n' $ids | sed '/^$/d; s/.*/"&"/' | paste -sd, -)
printf '{"name": "gpu", "addresses": [%s]}\n' "$addresses"
