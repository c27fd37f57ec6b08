#!/usr/bin/env bash
# Checks, at image build time, that every shared library the JavaCPP JNI bridges link can be
# found, with the same lookup the JVM's dlopen will use (the bridges' RUNPATH, then ld.so.cache).
#
# Usage: check-native-libs.sh <flink lib dir>
#
# libcuda.so.1 is the only exception: it belongs to the host's driver and is mounted into the
# container by the NVIDIA container toolkit at run time, so it is absent while the image builds.
set -euo pipefail

lib_dir=${1:?usage: check-native-libs.sh <flink lib dir>}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The bridges the TensorRT backend loads: TensorRT's three, and the CUDA presets TensorRT's presets
# inherit (cudart, cuBLAS, cuDNN, NVRTC). Other CUDA bridges in the jar (NPP, cuFFT, ...) are
# never loaded by this project and their libraries are not installed.
declare -A wanted=(
  [tensorrt]="libjninvinfer.so libjninvinfer_plugin.so libjninvonnxparser.so"
  [cuda]="libjnicudart.so libjnicublas.so libjnicudnn.so libjninvrtc.so"
)

status=0
for preset in "${!wanted[@]}"; do
  jar=$(ls "$lib_dir"/"$preset"-*-linux-x86_64.jar 2>/dev/null | head -n 1 || true)
  if [[ -z "$jar" ]]; then
    echo "check-native-libs: no $preset-*-linux-x86_64.jar in $lib_dir (run mvn package first)" >&2
    status=1
    continue
  fi
  for bridge in ${wanted[$preset]}; do
    unzip -q -o -j "$jar" "org/bytedeco/$preset/linux-x86_64/$bridge" -d "$work"
    missing=$(ldd "$work/$bridge" | grep 'not found' | grep -v 'libcuda\.so\.1' || true)
    if [[ -n "$missing" ]]; then
      echo "check-native-libs: $bridge (from $(basename "$jar")) cannot resolve:" >&2
      echo "$missing" >&2
      status=1
    else
      echo "check-native-libs: $bridge resolves (libcuda.so.1 comes from the driver at run time)"
    fi
  done
done
exit $status
