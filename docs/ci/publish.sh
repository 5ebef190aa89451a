#!/usr/bin/env bash
# Build, sign, verify, publish and index WAPT packages from CI (docs/ci.md).
#   docs/ci/publish.sh SRC_DIR...
# Environment (CI secrets and settings):
#   WAPT_KEY_PEM, WAPT_CERT_PEM  the code-signing key and certificate as PEM text (never printed)
#   WAPT_KEY_PASSWORD            the key's password, if WAPT_KEY_PEM is encrypted
#   WAPT_TRUSTED_DIR             CA certificate(s) the packages must verify against
#   WAPT_WEB_ROOT                the repository directory the web server serves
#   WAPT_INDEX_EXPIRES           lifetime of the signed index (default 7d)
#   WAPT_GET                     the wapt-get command (default: wapt-get on PATH)
# SOURCE_DATE_EPOCH is taken from the last commit, so the same commit gives the same bytes.
# An already published name_version with other bytes is refused: bump the version.
set -euo pipefail
: "${WAPT_KEY_PEM:?set WAPT_KEY_PEM (a CI secret: the signing key, PEM)}"
: "${WAPT_CERT_PEM:?set WAPT_CERT_PEM (the signing certificate, PEM)}"
: "${WAPT_TRUSTED_DIR:?set WAPT_TRUSTED_DIR (the CA the packages must chain to)}"
: "${WAPT_WEB_ROOT:?set WAPT_WEB_ROOT (the repository directory)}"
[ "$#" -gt 0 ] || { echo "usage: $0 SRC_DIR..." >&2; exit 2; }
wg=(${WAPT_GET:-wapt-get})

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
  export SOURCE_DATE_EPOCH
fi
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

echo "== build and sign (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
"${wg[@]}" build-package -o "$staging" "$@"
echo "== verify"
"${wg[@]}" verify --trusted "$WAPT_TRUSTED_DIR" "$staging"/*.wapt
echo "== publish to $WAPT_WEB_ROOT"
mkdir -p "$WAPT_WEB_ROOT"
"${wg[@]}" upload-package --trusted "$WAPT_TRUSTED_DIR" --to "$WAPT_WEB_ROOT" "$staging"/*.wapt
echo "== index"
"${wg[@]}" scanpackages "$WAPT_WEB_ROOT" --trusted "$WAPT_TRUSTED_DIR" --sign --expires "${WAPT_INDEX_EXPIRES:-7d}"
