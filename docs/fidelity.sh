#!/usr/bin/env bash
# Regenerates docs/fidelity.md: runs the kernel-fidelity test (C patterns against the running
# kernel, the same patterns as vmsim workloads) and writes the table it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
VMSIM_FIDELITY_MD="$PWD/docs/fidelity.md" cargo test -q -p vmsim-cli --test kernel_fidelity
echo "wrote docs/fidelity.md"
