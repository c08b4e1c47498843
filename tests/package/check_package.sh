#!/usr/bin/env bash
# The .deb as an operator gets it: CPack builds it from this build directory
# (never installed here), it holds the binaries, the config as a conffile, the
# unit, the dashboard's files and the clients, depends on Debian's runtime
# packages, and its unit passes `systemd-analyze verify` in a root made of the
# package plus the system's own units (so that ExecStart= must exist in it).
#   tests/package/check_package.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/out/*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "no single .deb in $work/out"
deb=${debs[0]}

contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for f in ./usr/bin/streamb ./usr/bin/streamb-agent ./etc/streamb/streamb.json \
         ./lib/systemd/system/streamb.service ./usr/share/streamb/web/index.html \
         ./usr/share/streamb/web/app.js ./usr/share/streamb/web/style.css \
         ./usr/share/streamb/clients/js/streamb-agent.mjs \
         ./usr/share/streamb/clients/python/streamb_agent/__init__.py \
         ./usr/share/doc/streamb/README.md; do
  grep -qxF "$f" <<<"$contents" || fail "the package lacks $f"
done
depends=$(dpkg-deb --field "$deb" Depends)
for p in libcaf-core0.17 libcaf-io0.17 libboost-json1.81.0 libhiredis0.14 libssl3 libsystemd0; do
  grep -qw "$p" <<<"$depends" || fail "Depends lacks $p: $depends"
done
# Every shared library the binaries link comes from a package in Depends.
# A sanitizer build (scripts/test --sanitize) is never shipped and links
# what a release does not: only a release build is held to it.
# (Read whole first: `grep -q` in a pipe under pipefail fails the pipe when
# objdump is cut off by SIGPIPE, and the check would never see the answer.)
sanitized=0
headers=$(objdump -p "$build/streamb")
grep -q 'NEEDED.*libasan' <<<"$headers" && sanitized=1
for bin in "$build/streamb" "$build/streamb-agent"; do
  [[ $sanitized == 1 ]] && break
  while read -r lib; do
    # dpkg knows a file by the path its package installed (/lib or /usr/lib
    # on a merged-/usr system; the link or its target).
    owner=""
    real=$(readlink -f "$lib")
    for path in "$lib" "$real" "${lib#/usr}" "${real#/usr}" "/usr$lib" "/usr$real"; do
      owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || owner=""
      [[ -n $owner ]] && break
    done
    [[ -n $owner ]] || fail "no package owns $lib (needed by $bin)"
    grep -qw "$owner" <<<"$depends" ||
      fail "$(basename "$bin") needs $lib from $owner, which Depends lacks: $depends"
  done < <(
    # Its own NEEDED entries (what they pull in is their packages' business),
    # each where the loader finds it.
    needed=$(objdump -p "$bin" | awk '/NEEDED/{print $2}')
    ldd "$bin" | awk -v needed="$needed" \
      'BEGIN{split(needed, n, "\n"); for (i in n) want[n[i]]=1}
       $2 == "=>" && ($1 in want) {print $3}')
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qxF /etc/streamb/streamb.json ||
  fail "/etc/streamb/streamb.json is not a conffile"

root=$work/root
dpkg-deb -x "$deb" "$root"
[[ -x $root/usr/bin/streamb ]] || fail "/usr/bin/streamb is not executable"
# The packaged config is one the packaged binary accepts.
"$build/streamb" check-config "$root/etc/streamb/streamb.json" >/dev/null ||
  fail "the packaged config does not pass check-config"
mkdir -p "$root/usr/lib/systemd" "$root/bin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /usr/bin/kill "$root/bin/kill"
out=$(systemd-analyze verify --root="$root" /lib/systemd/system/streamb.service 2>&1) ||
  { echo "$out" >&2; fail "systemd-analyze verify failed"; }
[[ -z $out ]] || { echo "$out" >&2; fail "systemd-analyze verify warned"; }
echo "check_package: $(basename "$deb") ok ($(du -h "$deb" | cut -f1))"
