#!/usr/bin/env bash
# lib.sh - for selftests/vm/test_*.sh, which run on the host and boot the
# VM (scripts/vm.sh) for their in-VM part.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$VM_DIR/../.." && pwd)
# The VM suites check the XDP datapath and the hardware tier on the
# distribution kernels: their end hosts send complete checksums, as hosts
# on a wire (scripts/lab.sh), unless a test asks for the veth's defaults
# (LAB_TX_OFFLOAD=on, the TC tier).
export LAB_TX_OFFLOAD=${LAB_TX_OFFLOAD:-off}

# vm_skip_unless_bootable NAME: print SKIP and exit when there is no VM.
vm_skip_unless_bootable() {
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "SKIP $1: qemu-system-x86_64 is not installed (scripts/deps.sh vm)"
		exit 0
	fi
	if ! ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1; then
		echo "SKIP $1: no Debian kernel in /boot (scripts/deps.sh vm)"
		exit 0
	fi
}

# cross_arches DEFAULT [ARG...]: the architectures a cross script
# (lab_cross.sh, test_vectors_cross.sh) runs on, into the array
# CROSS_ARCHES: its arguments, else DEFAULT (a space-separated list).
# -h or --help prints the script's header comment and exits.
cross_arches() {
	local dflt=$1
	shift
	case ${1:-} in
	-h | --help)
		sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	esac
	CROSS_ARCHES=("$@")
	[ ${#CROSS_ARCHES[@]} -gt 0 ] || read -ra CROSS_ARCHES <<<"$dflt"
}

# cross_build NAME ARCH [--lab]: ARCH's VM (with --lab, its lab VM) can
# boot here (scripts/vm.sh --probe) and "make cross ARCH=ARCH" built
# fastpath for it. Otherwise prints "SKIP NAME-ARCH" and returns 2, or
# the build's last lines and "FAIL NAME-ARCH" and returns 1.
cross_build() {
	local name=$1 a=$2 lab=${3:-} out
	if ! "$TOP/scripts/vm.sh" --arch "$a" ${lab:+"$lab"} --probe; then
		echo "SKIP $name-$a: no $a ${lab:+lab }VM here (scripts/deps.sh cross)"
		return 2
	fi
	if ! out=$(make -C "$TOP" --no-print-directory cross ARCH="$a" 2>&1); then
		echo "$out" | tail -20
		echo "FAIL $name-$a: make cross ARCH=$a failed"
		return 1
	fi
}

# vm_run PREFIX COMMAND...: run in the VM; result lines get PREFIX so they
# do not read as the host's own.
vm_run() {
	local prefix=$1 rc
	shift
	# A long watchdog: under TCG on a host other VMs share, a lab takes
	# far longer than vm.sh's default allows.
	"$TOP/scripts/vm.sh" --timeout 2400 -- "$@" 2>&1 | sed -u "s/^\(PASS\|FAIL\|SKIP\) /\1 $prefix-/"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $prefix: the VM run exited with status $rc"
		return 1
	fi
}

# In the VM: load what the labs need (the distro kernel has it all as modules).
vm_modules() {
	local m
	for m in veth nf_tables nf_conntrack nf_conntrack_netlink nft_ct nft_nat \
		nft_chain_nat nft_masq nf_nat nft_counter nf_flow_table nf_flow_table_inet \
		nft_flow_offload sch_tbf sch_htb 8021q pppoe bridge; do
		modprobe -q "$m" 2>/dev/null
	done
}
