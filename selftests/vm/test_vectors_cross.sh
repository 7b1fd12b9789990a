#!/usr/bin/env bash
# The packet vectors on other CPUs: for each architecture (default: arm64
# armhf mipsel s390x, or $FP_CROSS_ARCHES, or the arguments), "make cross"
# builds fastpath for it and one boot of its Debian kernel under qemu TCG
# (scripts/vm.sh --arch) runs every vector of unit/test_vectors through
# that kernel's BPF_PROG_TEST_RUN with the JIT on (vectors_inner.sh),
# "fastpath attach" and "fastpath flows" on that CPU, and on arm64 the
# cross-built modules (kmod_cross_inner.sh). Each prints "ARCH: N passed,
# N failed" and its wall time.
source "$(dirname "$0")/lib.sh"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || read -ra arches <<<"${FP_CROSS_ARCHES:-arm64 armhf mipsel s390x}"

rc=0
for a in "${arches[@]}"; do
	t0=$(date +%s)
	if ! "$TOP/scripts/vm.sh" --arch "$a" --probe; then
		echo "SKIP vectors-$a: no $a VM here (scripts/deps.sh cross)"
		continue
	fi
	if ! out=$(make -C "$TOP" --no-print-directory cross ARCH="$a" 2>&1); then
		echo "$out" | tail -20
		echo "FAIL vectors-$a: make cross ARCH=$a failed"
		rc=1
		continue
	fi
	# arm64's modules, against linux-headers-arm64, load in the same boot.
	if [ "$a" = arm64 ] && ! out=$(make -C "$TOP" --no-print-directory kmod ARCH=arm64 \
			CROSS_COMPILE=aarch64-linux-gnu- 2>&1); then
		echo "$out" | tail -20
		echo "FAIL kmod-arm64: make kmod ARCH=arm64 failed"
		rc=1
	fi
	"$TOP/scripts/vm.sh" --arch "$a" --timeout 1200 -- sh selftests/vm/vectors_inner.sh "$a" 2>&1 |
		grep -v '^\[ *[0-9.]*\] '
	r=${PIPESTATUS[0]}
	if [ "$r" -ne 0 ] && [ "$r" -ne 1 ]; then
		echo "FAIL vectors-$a: the VM run exited with status $r"
	fi
	[ "$r" -eq 0 ] || rc=1
	echo "$a: vectors took $(($(date +%s) - t0)) s"
done
exit "$rc"
