#!/usr/bin/env bash
# What `meson install` puts where (docs/design.md, "What meson install puts
# where"): the build installed with --strip into a staging root, then the
# tree checked against the paths the build's options give, re-derived here:
# binaries (stripped), pfd-session in libexec/pfd, libpfd with its headers
# and pfd.pc, the systemd user units (the installed pfd in ExecStart=, the
# keys systemd needs; `systemd-analyze verify` when there is one), the man
# pages (when built), the completions, the example config, the licence, and
# nothing else. Then `pfd install-units DIR` must write the installed units
# but for the executable's path.
# Usage: install_tree_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1") src=$(realpath "$2")
stage=$(mktemp -d /tmp/pfd-install-tree-XXXXXX)
trap 'rm -rf "$stage"' EXIT

failed=0 passed=0
ok() { passed=$((passed + 1)); }
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

meson install -C "$build" --no-rebuild --quiet --strip --destdir "$stage/root" >/dev/null

# ---- where things should be ------------------------------------------------------

option() { # NAME: the build's value of option NAME
  meson introspect "$build" --buildoptions |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(option prefix)
under_prefix() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(under_prefix "$(option bindir)")
libdir=$(under_prefix "$(option libdir)")
libexecdir=$(under_prefix "$(option libexecdir)")
includedir=$(under_prefix "$(option includedir)")
datadir=$(under_prefix "$(option datadir)")
mandir=$(under_prefix "$(option mandir)")
unitdir=$(option systemd_user_unit_dir)
if [ -z "$unitdir" ]; then
  unitdir=$(pkg-config --define-variable=prefix="$prefix" --variable=systemd_user_unit_dir systemd 2>/dev/null) ||
    unitdir=$prefix/lib/systemd/user
fi
bashdir=$(option bash_completions_dir)
if [ -z "$bashdir" ]; then
  bashdir=$(pkg-config --define-variable=datadir="$datadir" --variable=completionsdir bash-completion 2>/dev/null) ||
    bashdir=$datadir/bash-completion/completions
fi
zshdir=$(option zsh_completions_dir)
[ -n "$zshdir" ] || zshdir=$datadir/zsh/vendor-completions
fishdir=$(option fish_completions_dir)
[ -n "$fishdir" ] || fishdir=$datadir/fish/vendor_completions.d
docdir=$datadir/doc/pfd
man_pages=()
[ -f "$build/man/pfd.1" ] && man_pages=("$mandir/man1/pfd.1" "$mandir/man1/hostexec.1" "$mandir/man5/pfd.toml.5")
headers=()
for h in "$src"/include/pfd/*.hpp; do headers+=("$includedir/pfd/${h##*/}"); done

expected=(
  "$bindir/pfd" "$bindir/hostexec" "$libexecdir/pfd/pfd-session"
  "$libdir/libpfd.a" "$libdir/pkgconfig/pfd.pc" "${headers[@]}"
  "$unitdir/pfd.socket" "$unitdir/pfd.service"
  "${man_pages[@]}"
  "$bashdir/pfd" "$bashdir/hostexec" "$zshdir/_pfd" "$zshdir/_hostexec" "$fishdir/pfd.fish" "$fishdir/hostexec.fish"
  "$docdir/LICENSE" "$docdir/README.md" "$docdir/examples/config.toml"
)
root=$stage/root
for f in "${expected[@]}"; do
  if [ -f "$root$f" ]; then ok; else fail "not installed: $f"; fi
done
# Nothing else, and nothing left where pfd never reads it. (A lookup table,
# not `printf | grep -q`: with pipefail, grep -q leaving early makes printf
# die of SIGPIPE and the pipeline fail now and then.)
declare -A is_expected
for f in "${expected[@]}"; do is_expected[$f]=1; done
while IFS= read -r f; do
  f=${f#"$root"}
  [ -n "${is_expected[$f]:-}" ] || fail "installed but not expected here: $f"
done < <(find "$root" -type f -o -type l)
echo "installed under $prefix: ${#expected[@]} files"

# ---- programs ------------------------------------------------------------------

for f in "$bindir/pfd" "$bindir/hostexec" "$libexecdir/pfd/pfd-session"; do
  [ -x "$root$f" ] && ok || fail "not executable: $f"
  if command -v readelf >/dev/null; then
    if readelf -S "$root$f" | grep -E '\.symtab|\.debug_' >/dev/null; then fail "not stripped by meson install --strip: $f"; else ok; fi
  fi
done
"$root$bindir/pfd" --version >/dev/null && ok || fail "the installed pfd does not run"
"$root$bindir/hostexec" --version >/dev/null && ok || fail "the installed hostexec does not run"
# The library is the public API's layers, not the programs: no entry point
# and no pfd verb (src/cli/ is linked into the programs alone).
if command -v nm >/dev/null; then
  defined=$(nm -C --defined-only "$root$libdir/libpfd.a" 2>/dev/null)
  grep -q ' T pfd::server::run()' <<<"$defined" && ok || fail "libpfd.a defines no pfd::server::run()"
  cli=$(grep -E ' T pfd::(hostexec_main|pfd_main)\(|\(pfd::daemon_args const&|pfd::hostexec_options' <<<"$defined" | head -3) || true
  [ -z "$cli" ] && ok || fail "libpfd.a holds the programs' code: $cli"
fi
grep -q "^Libs:.*-lpfd" "$root$libdir/pkgconfig/pfd.pc" && ok || fail "pfd.pc links no -lpfd"
cmp -s "$src/config/pfd.toml" "$root$docdir/examples/config.toml" && ok || fail "examples/config.toml is not config/pfd.toml"
cmp -s "$src/LICENSE" "$root$docdir/LICENSE" && ok || fail "the licence is not LICENSE"

# ---- systemd user units --------------------------------------------------------------

service=$root$unitdir/pfd.service socket=$root$unitdir/pfd.socket
for line in "Type=notify" "NotifyAccess=all" "ExecStart=$bindir/pfd serve --socket %t/pfd.sock" \
            "ExecReload=$bindir/pfd reload --socket %t/pfd.sock" "Documentation=man:pfd(1) man:pfd.toml(5)" \
            "Requires=pfd.socket" "WantedBy=default.target"; do
  grep -qxF -- "$line" "$service" && ok || fail "pfd.service has no line '$line'"
done
for line in "ListenStream=%t/pfd.sock" "SocketMode=0600" "WantedBy=sockets.target" \
            "Documentation=man:pfd(1) man:pfd.toml(5)"; do
  grep -qxF -- "$line" "$socket" && ok || fail "pfd.socket has no line '$line'"
done
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze verify: skipped, systemd-analyze is not installed"
else
  # The units as installed, but for ExecStart=/ExecReload= pointing into the
  # staging root (verify wants an executable there), and the man pages of
  # Documentation= looked up in the staging root when built. A key it cannot
  # parse is only a warning to verify: any output fails.
  mkdir -p "$stage/verify" "$stage/run" && chmod 700 "$stage/run"
  cp "$socket" "$stage/verify/"
  sed "s|=$bindir/pfd |=$root$bindir/pfd |" "$service" >"$stage/verify/pfd.service"
  man_check=--man=no
  [ ${#man_pages[@]} -gt 0 ] && man_check=--man=yes
  if out=$(cd "$stage/verify" && LC_ALL=C.UTF-8 MANPATH=$root$mandir XDG_RUNTIME_DIR=$stage/run \
             systemd-analyze verify --user $man_check pfd.socket pfd.service 2>&1) && [ -z "$out" ]; then
    ok
    echo "systemd-analyze verify --user $man_check: no complaint"
  elif [[ $out == "Failed to initialize manager"* || $out == "Failed to lookup"* ]]; then
    # Its manager could not start here (no user runtime at all): about the
    # machine, not the units.
    echo "systemd-analyze verify: skipped, it cannot run here: ${out%%$'\n'*}"
  else
    fail "systemd-analyze verify: $out"
  fi
fi

# `pfd install-units`, for users without a package: the same units, with its
# own path.
"$root$bindir/pfd" install-units "$stage/units" >/dev/null
self=$(realpath "$root$bindir/pfd")
diff -u "$socket" "$stage/units/pfd.socket" && ok || fail "pfd install-units wrote another pfd.socket"
diff -u "$service" <(sed "s|$self |$bindir/pfd |g" "$stage/units/pfd.service") && ok ||
  fail "pfd install-units wrote another pfd.service than the installed one (but for the path)"
grep -qxF "ExecStart=$self serve --socket %t/pfd.sock" "$stage/units/pfd.service" && ok ||
  fail "pfd install-units: ExecStart= is not $self"

# ---- man pages ---------------------------------------------------------------

if [ ${#man_pages[@]} -eq 0 ]; then
  echo "man pages: not built (no scdoc, or -Dman-pages=disabled)"
else
  for page in "${man_pages[@]}"; do
    if command -v man >/dev/null; then
      warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$root$page" 2>&1 >/dev/null) || true
      [ -z "$warnings" ] && ok || fail "man $page: $warnings"
    fi
  done
  if command -v man >/dev/null; then
    for name in pfd hostexec pfd.toml; do
      LC_ALL=C.UTF-8 MANPATH=$root$mandir man -w "$name" >/dev/null 2>&1 && ok || fail "man -w $name finds nothing in $mandir"
    done
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
