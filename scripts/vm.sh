#!/usr/bin/env bash
# vm.sh - run a command as root inside a Debian distribution kernel.
#
#   scripts/vm.sh [--mem MB] [--timeout S] [--kernel VERSION] [--arch ARCH [--lab]] -- COMMAND [ARG...]
#   scripts/vm.sh [--kernel VERSION] [--arch ARCH] --probe   exit 0 when that VM can boot here
#
# The host kernel has no loadable modules, no 8021q, no PPP and no
# nf_flowtable. This boots Debian's linux-image-amd64 under qemu (TCG: KVM
# hangs on this machine) with the host root shared read-only over 9p, so
# the project, its build/ and every installed tool are where they are on
# the host. An initramfs of busybox-static loads the virtio and 9p modules,
# mounts the share, gives it fresh proc, sys, dev, bpffs, debugfs and tmpfs
# on /tmp and /run, and chroots into it to run COMMAND in the current
# directory. COMMAND's output comes back on stdout and its exit status is
# vm.sh's. Files: build/vm/ only. qemu is always killed, also on timeout.
#
# --kernel VERSION picks another amd64 kernel: one in /boot, or one that
# "scripts/deps.sh vm" unpacked (bookworm-backports' 6.12); a prefix such
# as "6.12" is enough. Its modules are laid over /lib/modules in the VM.
# $FP_VM_KERNEL is the default for --kernel.
#
# --arch arm64|armhf|mipsel|s390x boots that architecture's Debian kernel
# (scripts/deps.sh cross) on qemu's virt, virt, malta or s390-ccw-virtio
# machine. There is no Debian userland of that architecture, so nothing is
# chrooted: COMMAND runs under that architecture's busybox sh, in the
# host's current directory under /host (the host root, read-only), with
# the dynamic loader, the libraries and bpftool of the "make cross"
# sysroot in the initramfs. MIPS cannot exec a file on the 9p share, so
# a command copies the binaries of build/ARCH/ to /tmp (tmpfs) first.
# $FP_HOST is /host there, $FP_ARCH the architecture.
#
# --lab (arm64, mipsel) also packs that architecture's userland for the
# daemon lab into the initramfs: bash, iproute2, nftables, conntrack,
# socat, jq, coreutils, ethtool and python3 with their libraries (Debian's
# packages, unpacked by "scripts/deps.sh cross" into $FP_LIB/labroot-ARCH).
# They come first in PATH, before busybox.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
FP_LIB=${FP_LIB:-/var/lib/fastpath}
MEM=
TIMEOUT=900
KVER=${FP_VM_KERNEL:-}
ARCH=amd64
PROBE=
LAB=
while [ $# -gt 0 ]; do
	case $1 in
	--mem) MEM=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--kernel) KVER=$2; shift 2 ;;
	--arch) ARCH=$2; shift 2 ;;
	--lab) LAB=1; shift ;;
	--) shift; break ;;
	--probe) PROBE=1; shift ;;
	-h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vm.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || [ -n "$PROBE" ] || { echo "vm.sh: no command given (vm.sh -- COMMAND)" >&2; exit 2; }

# Per architecture: qemu, its machine, the console and the dynamic loader.
SYSROOT= TRIPLET=
case $ARCH in
amd64)
	QEMU=qemu-system-x86_64
	MACHINE=(-cpu max -accel tcg,thread=multi -smp 2 -bios /usr/share/qemu/qboot.rom)
	CONSOLE=ttyS0
	;;
arm64)
	QEMU=qemu-system-aarch64 TRIPLET=aarch64-linux-gnu
	# cortex-a72: "max" has pointer authentication, which TCG emulates slowly.
	MACHINE=(-M virt -cpu cortex-a72 -accel tcg,thread=multi -smp 2)
	CONSOLE=ttyAMA0
	;;
armhf)
	QEMU=qemu-system-arm TRIPLET=arm-linux-gnueabihf
	MACHINE=(-M virt,highmem=off -cpu cortex-a15 -accel tcg,thread=multi -smp 2)
	CONSOLE=ttyAMA0
	;;
mipsel)
	# The 4Kc kernel is uniprocessor; malta takes 256 MB without highmem.
	QEMU=qemu-system-mipsel TRIPLET=mipsel-linux-gnu
	MACHINE=(-M malta -cpu 24Kf)
	CONSOLE=ttyS0
	: "${MEM:=256}"
	;;
s390x)
	QEMU=qemu-system-s390x TRIPLET=s390x-linux-gnu
	MACHINE=(-M s390-ccw-virtio -cpu max -accel tcg,thread=multi -smp 2)
	CONSOLE=ttysclp0
	;;
*) echo "vm.sh: unknown architecture '$ARCH' (amd64 arm64 armhf mipsel s390x)" >&2; exit 2 ;;
esac
: "${MEM:=1024}"

if ! command -v "$QEMU" >/dev/null; then
	echo "vm.sh: $QEMU is not installed (scripts/deps.sh $([ "$ARCH" = amd64 ] && echo vm || echo cross))" >&2
	exit 125
fi

# The kernel, its modules (MODDIR, on the host) and, when they are not
# the host's /lib/modules, where the chroot finds them (MODTOP).
MODTOP=
if [ "$ARCH" = amd64 ]; then
	if [ -z "$KVER" ]; then
		KVER=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)
	elif [ ! -e "/boot/vmlinuz-$KVER" ]; then
		KVER=$( (ls /boot/vmlinuz-"$KVER"*-amd64 "$FP_LIB"/linux-"$KVER"*/boot/vmlinuz-*) 2>/dev/null |
			sed 's|.*/vmlinuz-||' | sort -V | tail -1)
	fi
	KERNEL=/boot/vmlinuz-$KVER
	MODDIR=/lib/modules/$KVER
	if [ ! -r "$KERNEL" ] && [ -n "$KVER" ]; then
		KERNEL=$FP_LIB/linux-$KVER/boot/vmlinuz-$KVER
		MODDIR=$(ls -d "$FP_LIB/linux-$KVER"/{usr/,}lib/modules/"$KVER" 2>/dev/null | head -1)
		MODTOP=${MODDIR%/*}
	fi
	hint="install linux-image-amd64: scripts/deps.sh vm"
else
	# shellcheck disable=SC2012
	KERNEL=$(ls "$FP_LIB/vm-$ARCH"/boot/vmlinu[xz]-* 2>/dev/null | sort -V | tail -1)
	KVER=${KERNEL##*/vmlinu?-}
	MODDIR=$(ls -d "$FP_LIB/vm-$ARCH"/{usr/,}lib/modules/"$KVER" 2>/dev/null | head -1)
	SYSROOT=$FP_LIB/sysroot-$ARCH
	hint="scripts/deps.sh cross"
	[ -d "$SYSROOT/usr/lib/$TRIPLET" ] || { echo "vm.sh: no $ARCH sysroot in $SYSROOT ($hint)" >&2; exit 125; }
fi
LABROOT=
if [ -n "$LAB" ]; then
	LABROOT=$FP_LIB/labroot-$ARCH
	[ -n "$SYSROOT" ] || { echo "vm.sh: --lab is for a foreign --arch (amd64 has the host's tools)" >&2; exit 2; }
	[ -e "$LABROOT/.done" ] || { echo "vm.sh: no $ARCH lab userland in $LABROOT ($hint)" >&2; exit 125; }
fi
if [ -z "$KVER" ] || [ ! -r "$KERNEL" ] || [ ! -d "$MODDIR" ]; then
	echo "vm.sh: no Debian ${KVER:-$ARCH} kernel here ($hint)" >&2
	exit 125
fi

[ -n "$PROBE" ] && exit 0

VMDIR=$TOP/build/vm
mkdir -p "$VMDIR"
INITRD=$VMDIR/initramfs-$ARCH${LAB:+-lab}-$KVER.cpio.gz

# The modules that mount the share, each after what it depends on; those
# built into this kernel are not in modules.dep and need nothing.
boot_modules() {
	local want="virtio_pci virtio_mmio 9pnet_virtio 9p overlay veth" seen="" out="" m p
	visit() {
		local path=$1 dep
		case " $seen " in *" $path "*) return ;; esac
		seen="$seen $path"
		for dep in $(awk -v m="$path:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "$MODDIR/modules.dep"); do
			visit "$dep"
		done
		out="$out $path"
	}
	for m in $want; do
		p=$(awk -v m="/$m.ko" '{ sub(":", "", $1) } substr($1, length($1) - length(m) + 1) == m ||
			substr($1, length($1) - length(m) - 2) == m ".xz" { print $1; exit }' "$MODDIR/modules.dep")
		[ -n "$p" ] && visit "$p"
	done
	echo "$out"
}

# The init of a VM of the host's own architecture: chroot into the share.
init_chroot() {
	cat <<'INIT'
mkdir -p /root
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /root; then
	# A kernel whose modules are not in the host's /lib/modules brings
	# them along (see MODTOP): they are laid over it, for modprobe.
	if [ -n "$MODTOP" ]; then
		mount -t overlay overlay -o "lowerdir=/root$MODTOP:/root/lib/modules" /root/lib/modules ||
			echo "vm: cannot lay $MODTOP over /lib/modules"
	fi
	mount -t proc proc /root/proc
	mount -t sysfs sys /root/sys
	mount -t devtmpfs dev /root/dev
	# pppd wants a pty: devtmpfs has no pts directory of its own.
	mkdir -p /root/dev/pts
	mount -t devpts devpts /root/dev/pts
	# devtmpfs has no /dev/fd; bash's process substitution needs it.
	ln -sf /proc/self/fd /root/dev/fd
	ln -sf /proc/self/fd/0 /root/dev/stdin
	ln -sf /proc/self/fd/1 /root/dev/stdout
	ln -sf /proc/self/fd/2 /root/dev/stderr
	# /tmp is writable, but still shows the host's /tmp underneath: a
	# checkout there (CI's, say) must stay visible to the command.
	mkdir -p /ovl
	mount -t tmpfs ovl /ovl
	mkdir -p /ovl/upper /ovl/work
	mount -t overlay overlay -o lowerdir=/root/tmp,upperdir=/ovl/upper,workdir=/ovl/work /root/tmp ||
		mount -t tmpfs tmp /root/tmp
	mount -t tmpfs run /root/run
	mount -t tmpfs vartmp /root/var/tmp
	mount -t bpf bpf /root/sys/fs/bpf
	mount -t debugfs debugfs /root/sys/kernel/debug
	mount -t tracefs tracefs /root/sys/kernel/tracing 2>/dev/null
	echo /bin/vm-modprobe >/proc/sys/kernel/modprobe
	stty -F /dev/$CONSOLE raw -echo 2>/dev/null
	chroot /root /usr/bin/env -i HOME=/tmp TERM=dumb FP_IN_VM=1 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/sh "$cmd" </dev/null >/dev/$CONSOLE 2>&1
	status=$?
else
	echo "vm: cannot mount the host root over 9p"
fi
INIT
}

# The init of a foreign VM: busybox runs the command from the share, and
# the loader and libraries come from the sysroot there.
init_foreign() {
	cat <<'INIT'
mkdir -p /host /tmp /run
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host; then
	mkdir -p /lib/modules
	ln -s "/host$MODDIR" "/lib/modules/$(uname -r)"
	echo /bin/modprobe >/proc/sys/kernel/modprobe
	mount -t tmpfs tmp /tmp
	mount -t tmpfs run /run
	mount -t bpf bpf /sys/fs/bpf
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	stty -F /dev/$CONSOLE raw -echo 2>/dev/null
	env -i HOME=/tmp TERM=dumb FP_IN_VM=1 FP_HOST=/host FP_ARCH=$ARCH \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH="/lib/$TRIPLET:/usr/lib/$TRIPLET" \
		/bin/sh "/host$cmd" </dev/null >/dev/$CONSOLE 2>&1
	status=$?
else
	echo "vm: cannot mount the host root over 9p"
fi
INIT
}

build_initramfs() {
	local stage mods m busybox l
	stage=$(mktemp -d "$VMDIR/stage.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,root,lib/mod}
	if [ "$ARCH" = amd64 ]; then
		busybox=/bin/busybox
	else
		busybox=$FP_LIB/vm-$ARCH/bin/busybox
	fi
	cp "$busybox" "$stage/bin/busybox" || return 1
	mods=$(boot_modules)
	for m in $mods; do
		# busybox insmod reads plain modules only.
		case $m in
		*.xz) xz -dc "$MODDIR/$m" >"$stage/lib/mod/$(basename "$m" .xz)" ;;
		*) cp "$MODDIR/$m" "$stage/lib/mod/" ;;
		esac
		echo "/lib/mod/$(basename "$m" .xz)" >>"$stage/lib/mod/order"
	done
	touch "$stage/lib/mod/order"
	# A foreign guest gets the sysroot's shared libraries, its dynamic
	# loader by its usual name (/lib/...) and bpftool in the initramfs:
	# MIPS cannot run an ELF file from the 9p share (exec fails), and
	# this way nothing of the sysroot is looked up over 9p at run time.
	# The lab's userland, without its documentation; iproute2 keeps its
	# namespaces in /var/run/netns.
	if [ -n "$LABROOT" ]; then
		cp -a "$LABROOT/." "$stage/" || return 1
		rm -rf "$stage/.done" "$stage"/usr/share/{doc,man,locale,info,lintian,bash-completion}
		mkdir -p "$stage/var"
		ln -s /run "$stage/var/run"
	fi
	if [ -n "$SYSROOT" ]; then
		mkdir -p "$stage/lib/$TRIPLET"
		(cd "$SYSROOT" && find "lib/$TRIPLET" "usr/lib/$TRIPLET" -maxdepth 1 -name '*.so*' \
			-exec cp -a {} "$stage/lib/$TRIPLET/" \;) || return 1
		for l in "$SYSROOT"/lib/ld*.so*; do
			ln -s "$TRIPLET/$(basename "$(readlink -f "$l")")" "$stage/lib/${l##*/}"
		done
		cp "$SYSROOT/usr/sbin/bpftool" "$stage/bin/bpftool" || return 1
	fi
	{
		echo '#!/bin/busybox sh'
		printf 'ARCH=%q CONSOLE=%q MODDIR=%q MODTOP=%q SYSROOT=%q TRIPLET=%q\n' \
			"$ARCH" "$CONSOLE" "$MODDIR" "$MODTOP" "$SYSROOT" "$TRIPLET"
		cat <<'INIT'
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/mod/order); do insmod "$m" || echo "vm: insmod $m failed"; done
cmd=$(sed -n 's/.*fpcmd=\([^ ]*\).*/\1/p' /proc/cmdline)
status=125
INIT
		if [ -n "$SYSROOT" ]; then init_foreign; else init_chroot; fi
		cat <<'INIT'
echo "@@VMEXIT@@ $status" >/dev/$CONSOLE
sync
poweroff -f
INIT
	} >"$stage/init"
	# The kernel's module autoloader (nft expressions, ctnetlink...) runs
	# /proc/sys/kernel/modprobe in the initramfs root, not in the chroot;
	# this forwards it to the distribution's modprobe in the share.
	cat >"$stage/bin/vm-modprobe" <<'MODPROBE'
#!/bin/busybox sh
exec /bin/chroot /root /sbin/modprobe "$@"
MODPROBE
	chmod +x "$stage/bin/vm-modprobe"
	chmod +x "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp" &&
		mv "$INITRD.tmp" "$INITRD"
	rm -rf "$stage"
}

# Rebuilt when this script changes, since the init script lives in it,
# and when the kernel's modules do.
[ -s "$INITRD" ] && [ "$INITRD" -nt "$0" ] && [ "$INITRD" -nt "$MODDIR/modules.dep" ] &&
	{ [ -z "$LABROOT" ] || [ "$INITRD" -nt "$LABROOT/.done" ]; } || build_initramfs || { echo "vm.sh: cannot build the initramfs" >&2; exit 125; }

RUN=$(mktemp -d "$VMDIR/run.XXXXXX")
LOG=$RUN/console
QPID= WD=
cleanup() {
	[ -n "$WD" ] && kill "$WD" 2>/dev/null
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill "$QPID" 2>/dev/null
		sleep 0.2
		kill -9 "$QPID" 2>/dev/null
	fi
	[ -n "$QPID" ] && wait "$QPID" 2>/dev/null
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command, in the caller's directory, with its arguments quoted.
{
	if [ -n "$SYSROOT" ]; then
		printf 'cd %q || exit 125\n' "/host$PWD"
	else
		printf 'cd %q || exit 125\n' "$PWD"
	fi
	printf '%q ' "$@"
	printf '\n'
} >"$RUN/cmd.sh"
: >"$LOG"

"$QEMU" "${MACHINE[@]}" -m "$MEM" \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=$CONSOLE quiet loglevel=1 panic=-1 rdinit=/init fpcmd=$RUN/cmd.sh" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-display none -monitor none -serial "file:$LOG" -nic none -no-reboot &
QPID=$!
# The watchdog must not hold our stdout open, or a caller reading it
# would wait for the sleep; on TERM it takes its sleep along.
(
	exec >/dev/null 2>&1
	sleep "$TIMEOUT" &
	s=$!
	trap 'kill $s; exit 0' TERM
	wait $s
	touch "$RUN/timedout"
	kill "$QPID"
) &
WD=$!

# Stream the console while qemu runs; the marker line carries the status.
tail -n +1 -f --pid="$QPID" "$LOG" | sed -u "s/\r//g" | grep --line-buffered -v -e "^@@VMEXIT@@" -e "^\[ *[0-9.]*\] reboot: "
wait "$QPID" 2>/dev/null
QPID=
status=$(tr -d '\r' <"$LOG" | sed -n 's/^@@VMEXIT@@ \([0-9]*\).*/\1/p' | tail -1)
if [ -e "$RUN/timedout" ]; then
	echo "vm.sh: timed out after ${TIMEOUT}s" >&2
	exit 124
fi
if [ -z "$status" ]; then
	echo "vm.sh: the VM stopped without reporting a status (crash?)" >&2
	exit 125
fi
exit "$status"
