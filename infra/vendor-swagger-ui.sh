#!/usr/bin/env bash
# Vendors Swagger UI for the API documentation page (/api/v1/docs): fetches
# swagger-ui-dist at a pinned version from the npm registry, checks the
# tarball against the integrity the registry publishes for that version
# (pinned here), and copies the bundle and its stylesheet (gzipped) and its licence into
# shared/api/assets/swagger-ui/. Run it to change the version; the files are
# committed, so builds need no network.
set -euo pipefail
cd "$(dirname "$0")/.."
version=5.35.0
integrity='sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=='
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "swagger-ui-dist@$version" --silent > /dev/null)
tarball="$work/swagger-ui-dist-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "swagger-ui-dist $version: integrity $actual, expected $integrity" >&2
  exit 1
fi
tar xzf "$tarball" -C "$work"
out=shared/api/assets/swagger-ui
mkdir -p "$out"
# Compressed once here (reproducibly: no name or time in the header), served
# as they are to browsers that accept gzip: a quarter of the size in every
# function binary that serves the page.
rm -f "$out"/*.gz
for file in swagger-ui-bundle.js swagger-ui.css; do
  gzip -9 -n -c "$work/package/$file" > "$out/$file.gz"
done
cp "$work/package/LICENSE" "$out/"
echo "$version" > "$out/VERSION"
echo "vendored swagger-ui-dist $version into $out"
