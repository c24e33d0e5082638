#!/usr/bin/env bash
# One idempotent set-up step, run by `npm test`, `npm run reproduce` and CI:
# Debian packages (Jupyter, Chromium for PNG figures, Fashion-MNIST, OpenBLAS),
# npm packages from the lockfile, the native kernel addon. Fast when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: jupyter + nbclient run notebooks, chromium renders PNG
# fallbacks of plotly figures, the data sets (Fashion-MNIST; the KJV text for
# the language model), OpenBLAS + g++ for the native engine; sox with every
# format plug-in (ogg, wav, gsm) converts the speech clips to 16 kHz
# (lib/data/speech.ts; the speech .debs themselves are fetched on first use).
APT_PKGS=(jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel
          chromium fonts-liberation dataset-fashion-mnist bible-kjv libopenblas-dev g++ make
          sox libsox-fmt-all)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${DYT_SKIP_APT:-}" = 1 ]; then
    echo "[setup] DYT_SKIP_APT=1: not installing Debian packages: ${missing[*]}" >&2
  else
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "[setup] installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# npm packages, exactly as locked. Re-run when the lockfile changed.
stamp=node_modules/.dyt-lab-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

# Native OpenBLAS kernels (optional: the engine falls back to wasm without them).
if [ -f native/build.sh ]; then
  bash native/build.sh || echo "[setup] native engine not built; the wasm engine will be used" >&2
fi
