#!/bin/sh
# kmod_cross_inner.sh ARCH - in that architecture's Debian kernel
# (scripts/vm.sh --arch), the modules "make kmod ARCH=... CROSS_COMPILE=..."
# built against its linux-headers: they load, the simulated PPE device
# appears, and they unload without a warning in the kernel log.
arch=$1
d=/tmp/fpko
mkdir -p $d
cp "build/$arch/kmod/ppe_sim.ko" "build/$arch/kmod/fastpath.ko" $d/ || exit 1
dmesg -c >/dev/null
# What the module needs from the kernel (nf_conntrack), from the share.
for m in $(modinfo -F depends $d/fastpath.ko $d/ppe_sim.ko | tr ',' ' '); do
	modprobe "$m" || echo "FAIL $arch-kmod-deps: modprobe $m failed"
done
if insmod $d/ppe_sim.ko && insmod $d/fastpath.ko; then
	echo "PASS $arch-kmod-load: $(lsmod | grep -E '^(fastpath|ppe_sim) ' | awk '{print $1}' | tr '\n' ' ')"
else
	echo "FAIL $arch-kmod-load: insmod failed"
fi
rmmod fastpath && rmmod ppe_sim || echo "FAIL $arch-kmod-unload: rmmod failed"
if dmesg | grep -qE 'WARNING|BUG|Oops|Call trace'; then
	echo "FAIL $arch-kmod-dmesg: $(dmesg | grep -E 'WARNING|BUG|Oops|Call trace' | head -3)"
else
	echo "PASS $arch-kmod-dmesg: no warning"
fi
