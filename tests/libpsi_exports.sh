#!/usr/bin/env bash
# libpsi exports exactly its public headers (psi/include/psi/export.h):
#  1. every dynamic symbol libpsi.so defines is a function declared in an
#     installed header (include/psi/*.h) with PSI_EXPORT;
#  2. every function an installed header declares PSI_EXPORT is exported;
#  3. every function an installed header declares carries PSI_EXPORT (a
#     public declaration without it would name a function users cannot call).
# Each broken rule is listed by symbol and the test fails.
#
#   libpsi_exports.sh LIBPSI.so INCLUDE_DIR     (INCLUDE_DIR: psi/include/psi)
#
# ctest runs it as psi_exports (psi/CMakeLists.txt).
set -euo pipefail
lib=${1:?usage: libpsi_exports.sh LIBPSI.so INCLUDE_DIR}
inc=${2:?usage: libpsi_exports.sh LIBPSI.so INCLUDE_DIR}
[ -f "$lib" ] || { echo "exports: no library at $lib" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Symbols the sanitizers and the coverage instrumentation add to an
# instrumented build (PSI_SANITIZE, PSI_FUZZ: the linker's bounds of the
# __sancov_* sections, say) are theirs, not libpsi's.
nm -D --defined-only "$lib" | awk '{ print $NF }' |
  grep -Ev '^(__asan|__ubsan|__sanitizer|__sancov|__odr_asan|__lsan|__(start|stop)___sancov)' |
  sort -u >"$work/exported"

# The headers' top-level declarations, one a line: comments and preprocessor
# lines (with their continuations) removed, struct and enum bodies dropped,
# then split at each ';'. A function declaration is a statement that names
# psi_NAME( with no parenthesis before it (so function-pointer typedefs and
# members are not taken for functions).
for h in "$inc"/*.h; do
  perl -0777 -ne '
    s{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g;
    s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*\n}{}mg;
    s{extern\s+"C"\s*\{}{}g;
    1 while s{\{[^{}]*\}}{ }gs;
    for my $stmt (split /;/) {
      $stmt =~ s/\s+/ /g; $stmt =~ s/^ //;
      next if $stmt =~ /^typedef\b/;
      next unless $stmt =~ /^([^()]*?)\b(psi_\w+)\s*\(/;
      my ($before, $name) = ($1, $2);
      print(($before =~ /\bPSI_EXPORT\b/ ? "export" : "plain"), " $name\n");
    }' "$h"
done >"$work/declared.all"
awk '$1 == "export" { print $2 }' "$work/declared.all" | sort -u >"$work/declared.export"
awk '$1 == "plain" { print $2 }' "$work/declared.all" | sort -u >"$work/declared.plain"

failed=0
report() { # TITLE FILE
  if [ -s "$2" ]; then
    echo "exports: $1:" >&2
    sed 's/^/    /' "$2" >&2
    failed=1
  fi
}
comm -23 "$work/exported" "$work/declared.export" >"$work/undeclared"
comm -13 "$work/exported" "$work/declared.export" >"$work/missing"
report "exported by $(basename "$lib") but declared PSI_EXPORT in no installed header" \
  "$work/undeclared"
report "declared PSI_EXPORT in an installed header but not exported" "$work/missing"
report "declared in an installed header without PSI_EXPORT" "$work/declared.plain"
if [ "$(wc -l <"$work/declared.export")" -eq 0 ]; then
  echo "exports: no PSI_EXPORT declaration found under $inc" >&2
  failed=1
fi
[ "$failed" -eq 0 ] || exit 1
echo "exports: OK ($(wc -l <"$work/exported") symbols exported, each declared PSI_EXPORT in" \
  "include/psi/*.h, and no other)"
