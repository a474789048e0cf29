#!/usr/bin/env bash
# Installs the system packages VoicePipeline needs (Debian/Ubuntu), only when something is missing.
# Safe to run repeatedly; prints nothing when all is present.
set -euo pipefail

packages=(
  ffmpeg            # decoding of every input format, ffprobe for metadata
  espeak-ng         # speech for the test fixtures (and the CLI the binding is checked against)
  libespeak-ng1     # offline speech synthesis behind the emulator (VoicePipeline.EspeakNg loads it)
  libpocketsphinx3  # offline speech recognition behind the emulator
  pocketsphinx-en-us
  pocketsphinx      # pocketsphinx_continuous, the accuracy/speed reference
  pocketsphinx-testdata
  pulseaudio        # a null sink for the device transport tests
  pulseaudio-utils  # parec / pacat
  alsa-utils        # aplay/arecord and the recordings it ships
  sox
  chromium          # the browser page and Pipecat client tests drive Debian's Chromium (Playwright, ExecutablePath=/usr/bin/chromium)
)
# Node.js and npm bundle that client (npm ci in tests/VoicePipeline.Transports.WebSockets.Tests/PipecatClient). A
# machine with another Node.js (NodeSource's ships npm inside its nodejs package) keeps it.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (https://dot.net)" >&2; exit 1; }
