#!/bin/sh
# vectors_inner.sh - the in-VM part of test_vectors_cross.sh, in a foreign
# architecture's Debian kernel (scripts/vm.sh --arch): every packet vector
# of unit/test_vectors through that kernel's BPF_PROG_TEST_RUN, with the
# JIT on where the kernel has one. Runs under that architecture's busybox
# sh, not bash.
#
#   vectors_inner.sh ARCH
arch=$1
# MIPS cannot exec from the 9p share: run copies in tmpfs.
b=/tmp/fpbin
out=/tmp/vectors.out
mkdir -p $b
cp "build/$arch/test_vectors" "build/$arch/fastpath" $b/ || exit 1

jit=/proc/sys/net/core/bpf_jit_enable
echo "$arch: kernel $(uname -r) on $(uname -m)"
[ -e $jit ] && echo 1 >$jit 2>/dev/null

# The veth pairs of selftests/unit/run.sh: fpu0/fpu1 for the vectors,
# fpp0 -> fpp1 and fpq1 -> fpq0 for tc_partial.c's frames, with no IPv6
# so nothing else crosses them. busybox ip names a veth peer itself, so
# the peer is renamed.
ip link set lo up
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
mkpair() {
	local p
	ip link add "$1" type veth peer name "$2" || return 1
	p=$(ip -o link show | sed -n "s/^[0-9]*: \([^@:]*\)@$1:.*/\1/p")
	[ "$p" = "$2" ] || ip link set "$p" name "$2" || return 1
	ip link set "$1" up && ip link set "$2" up
}
if ! { mkpair fpu0 fpu1 && mkpair fpp0 fpp1 && mkpair fpq0 fpq1; }; then
	echo "FAIL $arch-veth: cannot make the veth pairs"
	exit 1
fi
peer=fpu1

run() {
	echo "$arch: bpf_jit_enable=$(cat $jit 2>/dev/null || echo 'none (no JIT in this kernel)')"
	"$b/test_vectors" fpu0 "$peer" >$out 2>&1
	rc=$?
}
run
# 32-bit ARM's JIT has no BPF atomics (the flow counters are "lock xadd"):
# with the JIT requested, this kernel refuses fastpath_xdp (ENOTSUPP)
# rather than interpret it. A known limit of that JIT, so a SKIP there;
# the vectors then run on the interpreter, that kernel's default (armhf
# has no CONFIG_BPF_JIT_DEFAULT_ON). Anywhere else it fails.
if [ "$arch" = armhf ] && grep -q '^load: Unknown error 524' $out; then
	skip_jit="SKIP $arch-jit: the arm32 JIT cannot translate fastpath_xdp (no BPF atomics); vectors on the interpreter"
	echo 0 >$jit
	run
	jit_want=
else
	# The vectors must have run on native code where the kernel has a JIT.
	jit_want=$([ -e $jit ] && echo native)
fi

sed -i "s/^\(PASS\|FAIL\|SKIP\) /\1 $arch-/" $out
cat $out
j=$(sed -n 's/^jit: //p' $out)
if [ -n "$jit_want" ]; then
	case $j in
	"fastpath_xdp native"*) echo "PASS $arch-jit: $j" ;;
	*) echo "FAIL $arch-jit: the JIT is on, but ${j:-nothing was loaded}" ;;
	esac
else
	echo "${skip_jit:-SKIP $arch-jit: this kernel has no BPF JIT; vectors on the interpreter}"
fi | tee -a $out
# The command on this CPU: attach, two static flows (v4 with SNAT, v6),
# and "fastpath flows" must print back the very addresses and ports.
flows_check() {
	local fp="$b/fastpath" got want
	export FASTPATH_PIN_DIR=/sys/fs/bpf/fpx
	if ! "$fp" attach fpu0 "$peer" >>$out.cli 2>&1; then
		echo "FAIL $arch-flows: fastpath attach failed: $(cat $out.cli)"
		return
	fi
	"$fp" flow add -i fpu0 -o "$peer" -p tcp -s 192.168.1.10:40000 -d 198.51.100.20:443 \
		--snat 203.0.113.1:61000 --dmac 02:00:00:00:02:20 >>$out.cli 2>&1 &&
	"$fp" flow add -i "$peer" -o fpu0 -p udp -s '[2001:db8:2::20]:53' -d '[2001:db8:1::10]:40001' \
		--dmac 02:00:00:00:01:10 >>$out.cli 2>&1 ||
		echo "FAIL $arch-flows: fastpath flow add failed: $(cat $out.cli)"
	got=$("$fp" flows 2>&1 | tr -s ' ')
	echo "$got" | sed "s/^/$arch: flows: /"
	for want in "fpu0 tcp 192.168.1.10:40000 -> 198.51.100.20:443 snat 203.0.113.1:61000 => $peer xdp pkts 0 bytes 0" \
		"$peer udp [2001:db8:2::20]:53 -> [2001:db8:1::10]:40001 => fpu0 xdp pkts 0 bytes 0"; do
		case $got in
		*"$want"*) echo "PASS $arch-flows: $want" ;;
		*) echo "FAIL $arch-flows: no line '$want'" ;;
		esac
	done
	"$fp" detach >>$out.cli 2>&1 || echo "FAIL $arch-detach: $(cat $out.cli)"
}
flows_check | tee -a $out
# The modules, where test_vectors_cross.sh cross-built them.
[ -e "build/$arch/kmod/fastpath.ko" ] && sh selftests/vm/kmod_cross_inner.sh "$arch" | tee -a $out

p=$(grep -c '^PASS ' $out)
f=$(grep -c '^FAIL ' $out)
s=$(grep -c '^SKIP ' $out)
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	echo "FAIL $arch-test_vectors: exited with status $rc"
	f=1
fi
echo "$arch: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
