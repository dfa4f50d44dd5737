#!/usr/bin/env bash
# Install the Debian packages the kit uses for real, if they are missing.
#   system-packages.sh tests    PostgreSQL (a gradebook on a server), Chromium (the class report in
#                               a browser) with a font for the tutorial's Chinese headings (the
#                               screenshots the tests keep), and bubblewrap (the sandbox of each
#                               submission's kernel); fails if it cannot install them.
#   system-packages.sh grading  bubblewrap only; grading goes on without it (with a warning) if it
#                               cannot be installed.
set -euo pipefail
purpose="${1:-tests}"
need=()
command -v bwrap > /dev/null || need+=(bubblewrap)
if [ "$purpose" = tests ]; then
    [ -x /usr/bin/chromium ] || need+=(chromium)
    [ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
    compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" > /dev/null || need+=(postgresql)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    sudo=(sudo -n)
else
    echo "Missing Debian packages: ${need[*]}. Install them with 'sudo apt-get install ${need[*]}'." >&2
    [ "$purpose" = tests ] && exit 1
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null \
    || { "${sudo[@]}" apt-get update -q > /dev/null \
         && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null; } \
    || { echo "Could not install ${need[*]}." >&2; [ "$purpose" = tests ] && exit 1; exit 0; }
