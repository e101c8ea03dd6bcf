# shellcheck shell=bash
# Sourced by .ci/run (as root, on a fresh Debian machine) before the tests:
# makes headless Chromium available for tests/test_browser_report.py.
# Installs Debian's `chromium` (and CJK fonts, so screenshots show Chinese) when
# `command -v chromium` fails, then exports CHROMIUM. Never aborts the CI run:
# if Chromium cannot be installed, the browser test skips and says why.
_start_chromium() {
  local sudo=""
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
    if command -v apt-get >/dev/null 2>&1; then
      echo "chromium: not found, installing Debian's chromium package"
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || echo "chromium: apt-get update failed" >&2
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends \
        chromium fonts-noto-cjk >/dev/null 2>&1 || echo "chromium: apt-get install failed; the browser test will be skipped" >&2
    else
      echo "chromium: not found and no apt-get here; the browser test will be skipped" >&2
    fi
  fi
  if command -v chromium >/dev/null 2>&1; then
    CHROMIUM="$(command -v chromium)"
    export CHROMIUM
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  fi
}
_start_chromium || true
unset -f _start_chromium
