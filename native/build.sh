#!/usr/bin/env bash
# Build the native OpenBLAS kernels (native/build/dyt_native.node) with plain g++.
# Needs g++, Node's headers (Debian: /usr/include/node; or node-gyp's cache) and
# libopenblas-dev. Any failure exits non-zero with a one-line reason; setup.sh
# treats that as "use the wasm engine". Rebuilds only when a source changed.
#
# DYT_NATIVE_MAX_ISA=x86-64-v3 builds a variant without the AVX-512 code
# (native/build/dyt_native-x86-64-v3.node; the default build is untouched):
# on an AVX-512 CPU it runs the AVX2 kernels an AVX2-only CPU would
# (`npm run bench -- --isa avx2` loads it through DYT_NATIVE_ADDON).
set -euo pipefail
cd "$(dirname "$0")"
srcs=(dyt_native.cc)

fail() { echo "[native] not built: $*" >&2; exit 1; }

case "${DYT_NATIVE_MAX_ISA:-}" in
  "" | x86-64-v4) out=build/dyt_native.node; log=build/compile.log; cap=x86-64-v4; defs=() ;;
  x86-64-v3) out=build/dyt_native-x86-64-v3.node; log=build/compile-x86-64-v3.log; cap=x86-64-v3; defs=(-DDYT_MAX_X86_64_V3) ;;
  *) fail "DYT_NATIVE_MAX_ISA=${DYT_NATIVE_MAX_ISA}: use x86-64-v3, or leave it unset for the full build" ;;
esac

if [ -f "$out" ] && [ -z "${DYT_NATIVE_REBUILD:-}" ]; then
  newer=0
  for s in "${srcs[@]}" build.sh; do [ "$s" -nt "$out" ] && newer=1; done
  [ "$newer" = 0 ] && exit 0
fi

command -v g++ >/dev/null || fail "g++ not found (apt-get install g++)"
command -v node >/dev/null || fail "node not found"

# Node-API headers: next to the node binary, else node-gyp's header cache.
ver=$(node -p 'process.version')
prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
inc=""
for d in "$prefix/include/node" /usr/include/node /usr/local/include/node \
         "${HOME:-/root}/.cache/node-gyp/${ver#v}/include/node" \
         "${HOME:-/root}/Library/Caches/node-gyp/${ver#v}/include/node"; do
  [ -f "$d/node_api.h" ] && { inc="$d"; break; }
done
[ -n "$inc" ] || fail "Node headers (node_api.h) not found (install nodejs headers or run node-gyp install)"

naa=$(node -p 'require("path").dirname(require.resolve("node-addon-api/package.json", {paths: [process.cwd() + "/.."]}))' 2>/dev/null) \
  || fail "node-addon-api is not installed (npm ci)"

# OpenBLAS: Debian's libopenblas-dev puts cblas.h in the include path via the
# alternatives system; look in the pthread variant dir as a fallback.
blasinc=""
for d in /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/include/openblas /usr/include; do
  [ -f "$d/cblas.h" ] && { blasinc="$d"; break; }
done
[ -n "$blasinc" ] || fail "cblas.h not found (apt-get install libopenblas-dev)"

mkdir -p build
tmp=build/.dyt_native.$$.node
# No -march: the addon must run on any x86-64; the elementwise loops are
# compiled for AVX-512, AVX2 and baseline (target_clones) and picked at load.
# -O3 vectorises them; -fno-trapping-math/-fno-math-errno let GCC if-convert
# the selects (no FP exception or errno is ever read). No -ffast-math: IEEE
# rounding, NaN and inf semantics are kept, and no FMA contraction (explicit
# -ffp-contract=off: GCC contracts a*b+c in the AVX2/AVX-512 clones otherwise,
# even with -std=c++17; measured: 1-ulp AdamW differences), so every
# clone gives bit-identical results.
if ! g++ -std=c++17 -O3 -ffp-contract=off -fno-trapping-math -fno-math-errno -fPIC -shared -pthread -fexceptions -Wall \
     -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED ${defs[@]+"${defs[@]}"} \
     -I"$inc" -I"$naa" -I"$blasinc" \
     "${srcs[@]}" -o "$tmp" -lopenblas 2>"$log"; then
  rm -f "$tmp"
  fail "g++ failed ($(grep -m1 -E 'error|cannot find' "$log" || echo "see native/$log"))"
fi
# Smoke-load it in a child process before publishing it (and check the cap took).
node -e "const m=require('./$tmp'); const i=m.info(); if(!i.corename || (i.isaCap !== '$cap' && i.isaCap !== 'none')) process.exit(1);" \
  || { rm -f "$tmp"; fail "built addon does not load"; }
mv -f "$tmp" "$out"
node -e "const i=require('./$out').info(); console.log('[native] built native/$out (OpenBLAS ' + i.corename + ', ' + i.threads + ' threads, up to ' + i.isaCap + ')')"
