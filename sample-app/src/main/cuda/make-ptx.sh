#!/usr/bin/env bash
# Regenerates the PTX of the sample app's CUDA kernels from mlp_kernels.cu (run it after editing that file, and commit
# both):
#
#   sample-app/src/main/cuda/make-ptx.sh [output.ptx]
#
# The output defaults to src/main/resources/dev/pauser/sample/mlp_kernels.ptx, the resource CudaTrainer loads.
# PtxTest runs this script where nvcc exists and checks that the committed file is exactly its output.
#
# -arch=compute_75: the oldest virtual architecture CUDA 13's nvcc still accepts (Turing: T4, RTX 20xx). The driver
#   compiles this PTX for the GPU it finds at load time, so it runs on every NVIDIA GPU from Turing on (A100, L4, H100,
#   H200, ...). Volta and older would need compute_70, which CUDA 13 dropped.
# .version 8.0: nvcc labels its PTX with its own ISA version (9.0 for CUDA 13), and a driver refuses PTX newer than
#   itself. The kernels need nothing beyond ISA 8.0 (CUDA 12.0, the oldest driver JCuda 12.0.0 runs on), so the label
#   is lowered to 8.0 and ptxas then assembles the lowered file for sm_75 to prove it is valid at that version.
# No -use_fast_math: exact sqrtf and division, so results do not depend on approximation flags.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../resources/dev/pauser/sample/mlp_kernels.ptx}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

nvcc -ptx -arch=compute_75 -o "$work/nvcc.ptx" "$here/mlp_kernels.cu"
sed -E 's/^\.version [0-9]+\.[0-9]+$/.version 8.0/' "$work/nvcc.ptx" > "$work/mlp_kernels.ptx"
if ! grep -qx '.version 8.0' "$work/mlp_kernels.ptx"; then
    echo "make-ptx.sh: no .version line in nvcc's output" >&2
    exit 1
fi
ptxas -arch=sm_75 -o "$work/check.cubin" "$work/mlp_kernels.ptx"
cp "$work/mlp_kernels.ptx" "$out"
