#!/usr/bin/env bash
# The packet vectors on other CPUs: for each architecture (default: arm64
# armhf mipsel s390x, or $FP_CROSS_ARCHES, or the arguments), "make cross"
# builds fastpath for it and one boot of its Debian kernel under qemu TCG
# (scripts/vm.sh --arch) runs every vector of unit/test_vectors through
# that kernel's BPF_PROG_TEST_RUN with the JIT on (vectors_inner.sh),
# "fastpath attach" and "fastpath flows" on that CPU, and the modules
# cross-built against its linux-headers (kmod_cross_inner.sh). Each prints "ARCH: N passed,
# N failed" and its wall time.
#
#   test_vectors_cross.sh [-h|--help] [ARCH...]
source "$(dirname "$0")/lib.sh"
cross_arches "${FP_CROSS_ARCHES:-arm64 armhf mipsel s390x}" "$@"

rc=0
for a in "${CROSS_ARCHES[@]}"; do
	t0=$(date +%s)
	cross_build vectors "$a" || { [ $? -eq 2 ] || rc=1; continue; }
	# The modules, against that kernel's linux-headers, load in the same
	# boot (kbuild names the architecture its own way).
	case $a in
	arm64) karch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;;
	armhf) karch=(ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf-) ;;
	mipsel) karch=(ARCH=mips CROSS_COMPILE=mipsel-linux-gnu-) ;;
	s390x) karch=(ARCH=s390 CROSS_COMPILE=s390x-linux-gnu-) ;;
	esac
	if ! out=$(make -C "$TOP" --no-print-directory kmod "${karch[@]}" 2>&1); then
		echo "$out" | tail -20
		echo "FAIL kmod-$a: make kmod ${karch[*]} failed"
		rc=1
	elif grep -q 'warning:' <<<"$out"; then
		grep 'warning:' <<<"$out" | head -5
		echo "FAIL kmod-$a: make kmod ${karch[*]} warns (W=1)"
		rc=1
	fi
	"$TOP/scripts/vm.sh" --arch "$a" --timeout 1200 -- sh selftests/vm/vectors_inner.sh "$a" 2>&1 |
		grep --line-buffered -v '^\[ *[0-9.]*\] '
	r=${PIPESTATUS[0]}
	if [ "$r" -ne 0 ] && [ "$r" -ne 1 ]; then
		echo "FAIL vectors-$a: the VM run exited with status $r"
	fi
	[ "$r" -eq 0 ] || rc=1
	echo "$a: vectors took $(($(date +%s) - t0)) s"
done
exit "$rc"
