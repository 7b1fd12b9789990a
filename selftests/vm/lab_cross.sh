#!/usr/bin/env bash
# The daemon lab on other CPUs: for each architecture (default: arm64 and
# mipsel, or the arguments), "make cross" builds fastpath for it and one
# boot of its Debian kernel under qemu TCG (scripts/vm.sh --arch --lab,
# with that CPU's bash, nftables, conntrack, socat and python3 in the
# initramfs) runs daemon_cross_inner.sh: TCP and UDP, IPv4 and IPv6,
# through masquerade, offloaded, bytes intact, "fastpath flows" right.
# Not a test_*.sh: too slow under TCG for "make check"; "make
# vm-check-all" runs it (selftests/run.sh lab-cross).
#
#   lab_cross.sh [-h|--help] [ARCH...]
source "$(dirname "$0")/lib.sh"
cross_arches "arm64 mipsel" "$@"

rc=0
for a in "${CROSS_ARCHES[@]}"; do
	t0=$(date +%s)
	cross_build lab "$a" --lab || { [ $? -eq 2 ] || rc=1; continue; }
	"$TOP/scripts/vm.sh" --arch "$a" --lab --timeout 2400 -- bash selftests/vm/daemon_cross_inner.sh "$a" 2>&1 |
		grep --line-buffered -v '^\[ *[0-9.]*\] ' | sed -u "s/^\(PASS\|FAIL\|SKIP\) /\1 lab-$a-/"
	r=${PIPESTATUS[0]}
	if [ "$r" -ne 0 ]; then
		echo "FAIL lab-$a: the VM run exited with status $r"
		rc=1
	fi
	echo "$a: daemon lab took $(($(date +%s) - t0)) s"
done
exit "$rc"
