#!/usr/bin/env bash
# Install the Debian packages the tests start for real, if they are missing: PostgreSQL (the
# gradebook on a server) and Chromium (the class report in a browser).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" > /dev/null || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif command -v sudo > /dev/null; then
    sudo=(sudo)
else
    echo "The tests need these Debian packages: ${need[*]}. Install them with" \
         "'sudo apt-get install ${need[*]}' and run again." >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null \
    || { "${sudo[@]}" apt-get update -q > /dev/null \
         && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" > /dev/null; }
