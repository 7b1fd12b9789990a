#!/usr/bin/env bash
# fastpath test runner.
#
#   selftests/run.sh [unit|e2e|vm|vectors|cross-ARCH|lab-cross|lab-ARCH]...
#                                                    (default: unit e2e vm)
#
# vectors is the kernel-dependent part of unit (the packet vectors through
# XDP and TC); the VM datapath suites run it in each guest kernel, since the
# layer check and the state machine's cases do not depend on the kernel.
# vm includes the 6.12 suites and the vectors on arm64, armhf, mipsel and
# s390x (test_vectors_cross.sh); cross-ARCH runs only that architecture's.
# lab-cross is the daemon lab on arm64 and mipsel (lab_cross.sh, in "make
# vm-check-all" only), lab-ARCH that architecture's.
# Each suite's wall time is printed after it.
#
# Every test program prints one line per case: "PASS name", "FAIL name: why"
# or "SKIP name: why". The runner runs each suite, tallies those lines and
# ends with "N passed, N failed" (", N skipped" when any were skipped),
# which CI reads. It exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit e2e vm)

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {
	local name=$1
	shift
	local t0=$SECONDS
	echo "== $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	echo "== $name: $((SECONDS - t0)) s"
	local p f s
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	s=$(grep -c '^SKIP ' "$log")
	# A test program that dies without reporting a failure still failed.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

if [ "$(id -u)" -ne 0 ]; then
	echo "selftests need root (BPF, network namespaces)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

for suite in "${suites[@]}"; do
	case "$suite" in
	vectors)
		run_one unit/test_vectors selftests/unit/run.sh
		;;
	unit)
		run_one unit/test_vectors selftests/unit/run.sh
		# The daemon's layers and state machine: no root or kernel needed
		# (also "make unit-user").
		run_one unit/check_layers scripts/check_layers.sh
		run_one unit/test_conn_fsm build/test_conn_fsm
		;;
	e2e)
		for t in selftests/e2e/test_*.sh; do
			[ -e "$t" ] || continue
			run_one "e2e/$(basename "$t" .sh)" bash "$t"
		done
		;;
	vm)
		for t in selftests/vm/test_*.sh; do
			[ -e "$t" ] || continue
			run_one "vm/$(basename "$t" .sh)" bash "$t"
		done
		;;
	lab-cross)
		run_one vm/lab-cross bash selftests/vm/lab_cross.sh
		;;
	lab-*)
		run_one "vm/lab-${suite#lab-}" bash selftests/vm/lab_cross.sh "${suite#lab-}"
		;;
	cross-*)
		run_one "vm/vectors-${suite#cross-}" bash selftests/vm/test_vectors_cross.sh "${suite#cross-}"
		;;
	*)
		echo "unknown suite: $suite" >&2
		exit 2
		;;
	esac
done

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
