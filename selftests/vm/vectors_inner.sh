#!/bin/sh
# vectors_inner.sh - the in-VM part of test_vectors_cross.sh, in a foreign
# architecture's Debian kernel (scripts/vm.sh --arch): every packet vector
# of unit/test_vectors through that kernel's BPF_PROG_TEST_RUN, with the
# JIT on. Runs under that architecture's busybox sh, not bash.
#
#   vectors_inner.sh ARCH
arch=$1
# MIPS cannot exec from the 9p share: run copies in tmpfs.
b=/tmp/fpbin
mkdir -p $b
cp "build/$arch/test_vectors" "build/$arch/fastpath.bpf.o" $b/ || exit 1
out=/tmp/vectors.out

echo "$arch: kernel $(uname -r) on $(uname -m)"
# The JIT, where the kernel has one (always-on kernels refuse the write).
[ -e /proc/sys/net/core/bpf_jit_enable ] && echo 1 >/proc/sys/net/core/bpf_jit_enable 2>/dev/null
echo "$arch: bpf_jit_enable=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null || echo none)"

# The object's programs, loaded as they are: the verifier takes them and
# the JIT translated them (bpftool reports the native code's size).
# 32-bit ARM's JIT has no BPF atomics (the flow counters are "lock xadd"):
# with the JIT requested, this kernel refuses such a program (ENOTSUPP)
# rather than interpret it. That is a known limit of that JIT, reported
# as a SKIP there; the vectors then run on the interpreter, which is that
# kernel's default (no CONFIG_BPF_JIT_DEFAULT_ON on armhf). Anywhere else
# a program the JIT cannot take fails.
jit_check() {
	local bpf p n info
	mkdir -p /sys/fs/bpf/fpjit
	if bpf=$(bpftool prog loadall "$b/fastpath.bpf.o" /sys/fs/bpf/fpjit 2>&1); then
		for p in /sys/fs/bpf/fpjit/*; do
			info=$(bpftool prog show pinned "$p")
			n=${p##*/}
			case $info in
			*"jited "*) echo "PASS $arch-jit-$n: $(echo "$info" | sed -n 's/.*\(xlated [0-9]*B\).*\(jited [0-9]*B\).*/\1, \2/p')" ;;
			*) echo "FAIL $arch-jit-$n: not translated by the JIT: $info" ;;
			esac
		done
	elif [ "$arch" = armhf ] && echo "$bpf" | grep -q 'failed to load: -524'; then
		echo "SKIP $arch-jit: the arm32 JIT cannot translate fastpath_xdp (no BPF atomics); vectors on the interpreter"
		echo 0 >/proc/sys/net/core/bpf_jit_enable
	else
		echo "FAIL $arch-jit: bpftool cannot load build/$arch/fastpath.bpf.o: $bpf"
	fi
	rm -rf /sys/fs/bpf/fpjit
}
jit_check
echo "$arch: bpf_jit_enable=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null || echo none) for the vectors"

# busybox ip names the veth peer itself; the vectors need both ends.
ip link set lo up
if ! ip link add fpu0 type veth peer name fpu1; then
	echo "FAIL $arch-veth: cannot make a veth pair"
	exit 1
fi
peer=$(ip -o link show | sed -n 's/^[0-9]*: \([^@:]*\)@fpu0:.*/\1/p')
ip link set fpu0 up
ip link set "$peer" up

"$b/test_vectors" fpu0 "$peer" >$out 2>&1
rc=$?
sed "s/^\(PASS\|FAIL\|SKIP\) /\1 $arch-/" $out
p=$(grep -c '^PASS ' $out)
f=$(grep -c '^FAIL ' $out)
s=$(grep -c '^SKIP ' $out)
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	echo "FAIL $arch-test_vectors: exited with status $rc"
	f=1
fi
echo "$arch: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
