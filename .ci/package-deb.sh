#!/usr/bin/env bash
# `npm run package:deb`: a Debian package of this checkout, built with dpkg-deb.
#   /usr/bin/wapt-get                      → /usr/lib/wapt-get/bin/wapt-get (dist/, templates/, runtime node_modules/)
#   /etc/wapt-get/wapt-get.ini (conffile)  and /etc/wapt-get/ssl/ for trusted certificates
#   /lib/systemd/system/wapt-get-upgrade.service + .timer (update && upgrade every 4 h; enable it yourself)
#   /var/lib/wapt-get (0700) made by postinst
# Node.js >= 20.15 must be on PATH as `node` (Debian's own nodejs may be older: see README, Install).
# Output: dist-deb/wapt-get_VERSION_all.deb (or the directory given as $1).
# --no-build packs the dist/ already built (the tests build it once).
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [ "${1:-}" = --no-build ]; then build=0; shift; fi
out="${1:-dist-deb}"
version=$(node -p 'require("./package.json").version')
stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT

if [ "$build" = 1 ]; then npm run --silent build; fi
[ -f dist/cli/main.js ] || { echo "dist/ is not built: run npm run build" >&2; exit 1; }
lib="$stage/usr/lib/wapt-get"
mkdir -p "$lib" "$stage/usr/bin" "$stage/etc/wapt-get/ssl" "$stage/lib/systemd/system" "$stage/DEBIAN"
cp -r bin dist templates package.json package-lock.json "$lib/"
rm -f "$lib"/dist/*.tsbuildinfo
git rev-parse HEAD > "$lib/dist/commit.txt" 2>/dev/null || rm -f "$lib/dist/commit.txt"
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$lib/package-lock.json"
ln -s ../lib/wapt-get/bin/wapt-get "$stage/usr/bin/wapt-get"

cat > "$stage/etc/wapt-get/wapt-get.ini" <<'INI'
; wapt-get configuration (WAPT's wapt-get.ini syntax). `wapt-get config` shows what is read,
; `wapt-get doctor` checks it. Put the CA that signs your packages in /etc/wapt-get/ssl/.
[global]
; repo_url = https://repo.example.org/wapt
; verify_cert = 1
; maturities = PROD
INI

cat > "$stage/lib/systemd/system/wapt-get-upgrade.service" <<'UNIT'
[Unit]
Description=wapt-get: refresh the package indexes and upgrade
Documentation=man:wapt-get(8) https://www.wapt.fr
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/bin/wapt-get --quiet update
ExecStart=/usr/bin/wapt-get --quiet upgrade
UNIT

cat > "$stage/lib/systemd/system/wapt-get-upgrade.timer" <<'UNIT'
[Unit]
Description=wapt-get: update and upgrade every 4 hours

[Timer]
OnBootSec=10min
OnUnitActiveSec=4h
RandomizedDelaySec=30min
Persistent=true

[Install]
WantedBy=timers.target
UNIT

size=$(du -sk "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CTRL
Package: wapt-get
Version: ${version}
Architecture: all
Maintainer: wapt-get maintainers <maintainers@users.noreply.github.com>
Installed-Size: ${size}
Section: admin
Priority: optional
Homepage: https://www.wapt.fr
Description: WAPT-compatible package manager (build, sign, index, serve, install .wapt)
 One command-line tool that builds and signs .wapt packages, indexes a directory into a
 static repository, and installs, upgrades and removes packages on endpoints. Needs
 Node.js 20.15 or newer as \`node\` on PATH.
CTRL
echo /etc/wapt-get/wapt-get.ini > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
install -d -m 0700 /var/lib/wapt-get
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
SH
cat > "$stage/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = purge ]; then rm -rf /var/lib/wapt-get; fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
SH
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/wapt-get_${version}_all.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
