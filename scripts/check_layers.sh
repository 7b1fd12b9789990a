#!/usr/bin/env bash
# The layers of user/ (docs/DESIGN.md, "Architecture"): each file includes
# and calls only files of its own layer or below, and no two files call
# each other, directly or round a loop.
#
#   0 lib/                            log, fmt, json, args, names, pins, rtnl, ethtool, genl
#   1 daemon/conntab, links, addrs     data structures
#   2 daemon/conn_fsm                  the state machine (conn_fsm.h, daemon.h)
#   3 daemon/ct, netmon, hwtier, ops   adapters (adapters.h)
#   4 daemon/loop, daemon/main         "fastpath run" (run.h)
#   5 cli/                             the command
#
#   check_layers.sh [BUILD_DIR]
#
# Calls are read from the objects (nm: what each one leaves undefined, and
# which object defines it), so a call through a declaration copied by hand
# is caught too; includes from the sources. Prints PASS/FAIL lines.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${1:-build}

layer() {
	case "$1" in
	lib/*) echo 0 ;;
	daemon/conntab.* | daemon/links.* | daemon/addrs.* | daemon/conn.h) echo 1 ;;
	daemon/conn_fsm.* | daemon/daemon.h) echo 2 ;;
	daemon/ct.* | daemon/netmon.* | daemon/hwtier.* | daemon/ops.* | daemon/adapters.h) echo 3 ;;
	daemon/loop.* | daemon/main.* | daemon/run.h) echo 4 ;;
	cli/*) echo 5 ;;
	*) echo "?" ;;
	esac
}

fail=0
report() {
	echo "FAIL layers-$1: $2"
	fail=1
}

# Every file must have a layer: a new one is placed in the table above.
srcs=$(cd user && find . -name '*.[ch]' | sed 's|^\./||' | sort)
for f in $srcs; do
	[ "$(layer "$f")" != "?" ] || report placed "user/$f has no layer in $0"
done

# Includes: only the own layer or below.
for f in $srcs; do
	lf=$(layer "$f")
	while read -r inc; do
		[ -f "user/$inc" ] || continue	# fastpath.h, the skeleton, system headers
		li=$(layer "$inc")
		[ "$li" != "?" ] && [ "$li" -le "$lf" ] ||
			report includes "user/$f (layer $lf) includes $inc (layer $li)"
	done < <(sed -n 's/^#include "\(.*\)"/\1/p' "user/$f")
done

# Calls: which object defines each symbol another one uses.
objs=$(cd "$build/user" 2>/dev/null && find . -name '*.o' | sed 's|^\./||' | sort)
if [ -z "$objs" ]; then
	report calls "no objects under $build/user (make first)"
	exit 1
fi
declare -A def
for o in $objs; do
	while read -r sym; do
		def[$sym]=${o%.o}.c
	done < <(nm --defined-only -g "$build/user/$o" | awk '{print $3}')
done
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for o in $objs; do
	f=${o%.o}.c
	lf=$(layer "$f")
	while read -r sym; do
		g=${def[$sym]:-}
		[ -n "$g" ] && [ "$g" != "$f" ] || continue
		echo "$f $g" >>"$edges"
		lg=$(layer "$g")
		[ "$lg" -le "$lf" ] ||
			report calls "user/$f (layer $lf) uses $sym of user/$g (layer $lg)"
	done < <(nm --undefined-only "$build/user/$o" | awk '{print $2}')
done

# No cycles between files, even within a layer.
if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.err"; then
	report cycles "$(tr '\n' ' ' <"$edges.err")"
fi
rm -f "$edges.err"

if [ "$fail" -eq 0 ]; then
	echo "PASS layers: $(echo "$objs" | wc -w) objects, $(sort -u "$edges" | wc -l) file dependencies, none upward, no cycles"
fi
exit "$fail"
