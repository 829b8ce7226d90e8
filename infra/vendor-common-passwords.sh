#!/usr/bin/env bash
# Vendors the list of common passwords the password policy refuses: fetches
# zxcvbn at a pinned version from the npm registry, checks the tarball
# against the integrity the registry publishes for that version (pinned
# here), and keeps the passwords of its frequency list (30,000, from leaked
# password sets) that are long enough to pass the length rule, lower-cased,
# one per line, in shared/domain/common-passwords.txt, with zxcvbn's
# licence beside it. Run it to change the version; the file is committed,
# so builds need no network.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.4.2
integrity='sha512-Bq0B+ixT/DMyG8kgX2xWcI5jUvCwqrMxSFam7m0lAf78nf04hv6lNCsyLYdyYTrCVMqNDY/206K7eExYCeSyUQ=='
min_chars=10   # Password::MIN_CHARS: shorter ones fail the length rule anyway
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "zxcvbn@$version" --silent > /dev/null)
tarball="$work/zxcvbn-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "zxcvbn $version: integrity $actual, expected $integrity" >&2
  exit 1
fi
tar xzf "$tarball" -C "$work"
python3 - "$work/package/lib/frequency_lists.js" "$min_chars" > shared/domain/common-passwords.txt <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
passwords = re.search(r'passwords: "([^"]*)"', text).group(1).split(",")
seen = set()
for p in passwords:
    p = p.strip().lower()
    if len(p) >= int(sys.argv[2]) and p not in seen:
        seen.add(p)
        print(p)
PY
cp "$work/package/LICENSE.txt" shared/domain/common-passwords.LICENSE.txt
echo "vendored $(wc -l < shared/domain/common-passwords.txt) common passwords from zxcvbn $version"
