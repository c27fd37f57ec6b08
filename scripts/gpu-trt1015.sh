#!/usr/bin/env bash
# The TensorRT 10.15 line's runtime for the bare GPU host, as a group of its own beside ../shared/gpu/bundle.sh's
# (base, infer, builder, media, payload), in the same part format (parts of at most 55 MB, a MANIFEST of sha256
# sums, a recv.sh in every part), so that it travels the same way.
#
#   scripts/gpu-trt1015.sh pack    here, from the project root: writes .gpu-trt1015/NN/ (git-ignored)
#   bash .gpu-trt1015/NN/recv.sh   on the GPU host, one part a transfer; unpacks into /tmp/gpu/trt1015 when
#                                  the last part arrives
#   source /tmp/gpu/trt1015/env.sh then `java` is the base group's JRE with the 10.15 libraries on its path
#
# What the group holds (unpacked under /tmp/gpu/trt1015): lib/ TensorRT 10.15 libnvinfer, ONNX parser, plugins
# (org.bytedeco:tensorrt:10.15-1.5.13:linux-x86_64-redist; its builder resource is the PTX one only, so plans are
# built with the 10.6 line and --version-compatible); compat/ stand-ins for the CUDA 13 cuBLAS, NVRTC and cuDNN
# libraries that the 1.5.13 cuBLAS, NVRTC and cuDNN presets' JNI libraries link (TensorRT itself leaves them unused
# with its cuBLAS/cuDNN tactic sources off, as for the 10.6 line); bin/java, env.sh.
# The CUDA 13 runtime (libcudart.so.13) is not in it: Maven Central has no org.bytedeco:cuda:13.1-9.19-1.5.13
# linux-x86_64-redist jar (nor -redist-npp, the one split tried), so recv links the host's own, the one python3's
# torch wheels bring, and says which it found (not found: exit 4). It needs the base group (the JRE) from bundle.sh.
# The first pack compresses 690 MB at zstd -19: 16 minutes on this machine's 2 busy cores, 5 parts (4 x 55 MB and
# 3.6 MB); TRT1015_ZSTD_LEVEL=9 is quicker and bigger. Later packs reuse ~/.cache/gpu-bundle/trt10.15-1.5.13-v1.
# The Java side (the project built with -Ptrt10.15 and the 1.5.13 JavaCPP jars) travels in the payload:
# `scripts/gpu-bench.sh kit-trt1015` puts it under target/gpu-app/trt1015.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TRT=org.bytedeco:tensorrt:10.15-1.5.13:jar:linux-x86_64-redist
CUDA_JNI=org.bytedeco:cuda:13.1-9.19-1.5.13:jar:linux-x86_64
part_size=55000000

fetch() { # G:A:V:jar:C -> path of that jar in the local Maven repository (downloaded if missing)
  local g a v c; IFS=: read -r g a v _ c <<<"$1"
  local f="$HOME/.m2/repository/${g//.//}/$a/$v/$a-$v-$c.jar"
  [ -s "$f" ] || mvn -q dependency:get -Dartifact="$1" -Dtransitive=false >&2
  echo "$f"
}

make_compat() { # DIR: one stand-in per library, defining the symbols the 1.5.13 JNI libraries import from it
  local dir=$1 jni lib syms; jni=$(mktemp -d)
  unzip -q -j -o "$(fetch $CUDA_JNI)" 'org/bytedeco/cuda/linux-x86_64/libjnicublas.so' \
    'org/bytedeco/cuda/linux-x86_64/libjnicudnn.so' 'org/bytedeco/cuda/linux-x86_64/libjninvrtc.so' -d "$jni"
  for lib in libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libcudnn_graph.so.9 libcudnn_cnn.so.9 libcudnn_ops.so.9 libcudnn_adv.so.9; do
    syms=$(nm -D --undefined-only "$jni"/*.so | awk -v l="@$lib" '$2 ~ l"$" {sub(l"$", "", $2); print $2}' | sort -u)
    { for s in $syms; do echo "int $s(void) { return 1000; }"; done; } > "$jni/s.c"
    { echo "$lib {"; echo " global:"; for s in $syms; do echo "  $s;"; done; echo " local: *;"; echo "};"; } > "$jni/v.map"
    gcc -shared -fPIC -o "$dir/$lib" -Wl,-soname,"$lib" -Wl,--version-script="$jni/v.map" "$jni/s.c"
  done
  rm -rf "$jni"
}

build_group() { # CACHE: stage and compress the group into CACHE/trt1015.NNN
  local cache=$1 st; st=$(mktemp -d)
  local g="$st/trt1015"; mkdir -p "$g/lib" "$g/compat" "$g/bin"
  echo "runtime: trt1015 (TensorRT 10.15 runtime, ONNX parser, plugins, CUDA 13 stand-ins; slow: 640 MB libnvinfer)" >&2
  unzip -q -j -o "$(fetch $TRT)" 'org/bytedeco/tensorrt/linux-x86_64/libnvinfer.so.10' \
    'org/bytedeco/tensorrt/linux-x86_64/libnvonnxparser.so.10' 'org/bytedeco/tensorrt/linux-x86_64/libnvinfer_plugin.so.10' \
    'org/bytedeco/tensorrt/linux-x86_64/libnvinfer_vc_plugin.so.10' -d "$g/lib"
  make_compat "$g/compat"
  cat > "$g/bin/java" <<'EOF'
#!/bin/sh
# the base group's JRE with TensorRT 10.15, the host's CUDA 13 runtime (linked by recv) and the stand-ins on its path
export LD_LIBRARY_PATH=/tmp/gpu/trt1015/lib:/tmp/gpu/trt1015/compat${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
exec /tmp/gpu/jre/bin/java "$@"
EOF
  chmod +x "$g/bin/java"
  cat > "$g/env.sh" <<'EOF'
# source me after /tmp/gpu/env.sh: java is now the 10.15 line's (the 10.6 line's stays at /tmp/gpu/bin/java)
export JAVA_HOME=/tmp/gpu/jre
export PATH=/tmp/gpu/trt1015/bin:$PATH
case " ${JAVA_TOOL_OPTIONS:-} " in *pathsFirst*) ;; *)
  export JAVA_TOOL_OPTIONS="-Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.pathsFirst=true ${JAVA_TOOL_OPTIONS:-}" ;; esac
EOF
  (cd "$st" && tar -cf - trt1015) | zstd -q "-${TRT1015_ZSTD_LEVEL:-19}" --long=31 -T0 -o "$st/x.tzst"
  (cd "$st" && split -b $part_size -d -a 3 x.tzst trt1015.) && mkdir -p "$cache" && mv "$st"/trt1015.[0-9][0-9][0-9] "$cache/"
  rm -rf "$st"
}

pack() {
  local root out cache; root=$(pwd); out="$root/.gpu-trt1015"
  cache="${GPU_BUNDLE_CACHE:-$HOME/.cache/gpu-bundle}/trt10.15-1.5.13-v1"
  ls "$cache"/trt1015.000 > /dev/null 2>&1 || build_group "$cache"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$cache" && sha256sum -- trt1015.[0-9][0-9][0-9]) > "$cache/MANIFEST"
  local n=0 f d
  for f in $(cd "$cache" && ls -- trt1015.[0-9][0-9][0-9]); do
    d=$(printf '%s/%02d' "$out" "$n"); mkdir -p "$d"
    cp "$cache/$f" "$cache/MANIFEST" "$d/"; cp "$here/gpu-trt1015.sh" "$d/recv.sh"
    [ $n -eq 0 ] && cp -r "$here/../../shared/gpu/bin" "$d/" # zstd, in case this group comes before the base group
    n=$((n+1))
  done
  echo "$n parts in .gpu-trt1015/:"
  for d in "$out"/*/; do d=${d%/}; printf '  %s  %s  %s\n' "${d#$root/}" "$(ls "$d" | grep -E '\.[0-9]{3}$')" "$(du -sh "$d" | cut -f1)"; done
  echo "On the GPU host, one part a transfer: carry .gpu-trt1015/NN, run: bash .gpu-trt1015/NN/recv.sh"
}

recv() { # on the GPU host: keep this part; when all have arrived, unpack and link the host's CUDA 13 runtime
  local src dst=/tmp/gpu inbox=/tmp/gpu/inbox-trt1015; src=$(cd "$(dirname "$0")" && pwd)
  mkdir -p "$inbox" "$dst/bin"
  [ -d "$src/bin" ] && cp -n "$src"/bin/* "$dst/bin/" 2>/dev/null || true
  export PATH="$dst/bin:$PATH" LD_LIBRARY_PATH="$dst/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  command -v zstd > /dev/null || { echo "recv: no zstd here yet: send part 00 first" >&2; exit 2; }
  cp "$src"/trt1015.[0-9][0-9][0-9] "$src/MANIFEST" "$inbox/"
  cd "$inbox"
  local want have; want=$(grep -c ' trt1015\.[0-9][0-9][0-9]$' MANIFEST); have=$(ls -- trt1015.[0-9][0-9][0-9] | wc -l)
  [ "$have" -ge "$want" ] || { echo "recv: trt1015: $have of $want parts"; exit 0; }
  sha256sum -c --quiet MANIFEST || { echo "recv: trt1015: checksum mismatch, send its parts again" >&2; rm -f trt1015.[0-9][0-9][0-9]; exit 3; }
  rm -rf "$dst/trt1015"
  cat trt1015.[0-9][0-9][0-9] | zstd -q -d --long=31 -c | tar -xf - -C "$dst"
  rm -f trt1015.[0-9][0-9][0-9]
  echo "recv: trt1015 unpacked into $dst/trt1015"
  link_cudart "$dst/trt1015/lib"
  [ -x "$dst/jre/bin/java" ] || echo "recv: no /tmp/gpu/jre yet: the base group (bundle.sh part 00) is needed too"
}

link_cudart() { # LIB: the host's libcudart.so.13 (python3's torch wheels, a CUDA toolkit), linked into LIB
  local lib=$1 found
  found=$( { python3 -c 'import site; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null
             echo /usr/local /usr/lib /opt; } | while read -r d; do [ -d "$d" ] || continue; find "$d" -name 'libcudart.so.13*' 2>/dev/null
           done | sort -V | tail -1 || true)
  python3 -c 'import torch; print("recv: python3 torch", torch.__version__, "built with CUDA", torch.version.cuda)' 2>/dev/null || true
  if [ -z "$found" ]; then
    echo "recv: no libcudart.so.13 on this host: the 10.15 line cannot load here (the 1.5.13 CUDA presets need it)" >&2
    return 4
  fi
  ln -sf "$found" "$lib/libcudart.so.13"
  echo "recv: CUDA 13 runtime: $found"
}

case $(basename "$0"):${1:-} in
  recv.sh:*) recv ;;
  *:pack) pack ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
