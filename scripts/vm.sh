#!/usr/bin/env bash
# vm.sh - run a command as root inside Debian's distribution kernel.
#
#   scripts/vm.sh [--mem MB] [--timeout S] [--kernel VERSION] -- COMMAND [ARG...]
#   scripts/vm.sh --probe      exit 0 when a VM can be booted here
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
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
MEM=1024
TIMEOUT=900
KVER=
PROBE=
while [ $# -gt 0 ]; do
	case $1 in
	--mem) MEM=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--kernel) KVER=$2; shift 2 ;;
	--) shift; break ;;
	--probe) PROBE=1; shift ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vm.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || [ -n "$PROBE" ] || { echo "vm.sh: no command given (vm.sh -- COMMAND)" >&2; exit 2; }

# vm_available: prints why not, for callers that skip.
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm.sh: qemu-system-x86_64 is not installed (scripts/deps.sh vm)" >&2
	exit 125
fi
if [ -z "$KVER" ]; then
	KVER=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)
fi
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
if [ ! -r "$KERNEL" ] || [ ! -d "$MODDIR" ]; then
	echo "vm.sh: no Debian kernel in /boot (install linux-image-amd64: scripts/deps.sh vm)" >&2
	exit 125
fi

[ -n "$PROBE" ] && exit 0

VMDIR=$TOP/build/vm
mkdir -p "$VMDIR"
INITRD=$VMDIR/initramfs-$KVER.cpio.gz

# The modules that mount the share, each after what it depends on.
boot_modules() {
	local want="virtio_pci 9pnet_virtio 9p overlay" seen="" out=""
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
		visit "$(awk -v m="/$m.ko:" 'index($1, m) { sub(":", "", $1); print $1; exit }' "$MODDIR/modules.dep")"
	done
	echo "$out"
}

build_initramfs() {
	local stage mods m
	stage=$(mktemp -d "$VMDIR/stage.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,root,lib/mod}
	cp /bin/busybox "$stage/bin/busybox"
	mods=$(boot_modules)
	for m in $mods; do
		cp "$MODDIR/$m" "$stage/lib/mod/"
		echo "/lib/mod/$(basename "$m")" >>"$stage/lib/mod/order"
	done
	cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/mod/order); do insmod "$m" || echo "vm: insmod $m failed"; done
cmd=$(sed -n 's/.*fpcmd=\([^ ]*\).*/\1/p' /proc/cmdline)
status=125
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /root; then
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
	stty -F /dev/ttyS0 raw -echo 2>/dev/null
	chroot /root /usr/bin/env -i HOME=/tmp TERM=dumb FP_IN_VM=1 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/sh "$cmd" </dev/null >/dev/ttyS0 2>&1
	status=$?
else
	echo "vm: cannot mount the host root over 9p"
fi
echo "@@VMEXIT@@ $status" >/dev/ttyS0
sync
poweroff -f
INIT
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

# Rebuilt when this script changes, since the init script lives in it.
[ -s "$INITRD" ] && [ "$INITRD" -nt "$0" ] || build_initramfs || { echo "vm.sh: cannot build the initramfs" >&2; exit 125; }

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
	printf 'cd %q || exit 125\n' "$PWD"
	printf '%q ' "$@"
	printf '\n'
} >"$RUN/cmd.sh"
: >"$LOG"

qemu-system-x86_64 -cpu max -accel tcg,thread=multi -smp 2 -m "$MEM" \
	-bios /usr/share/qemu/qboot.rom \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init fpcmd=$RUN/cmd.sh" \
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
tail -n +1 -f --pid="$QPID" "$LOG" | tr -d "\r" | grep -v -e "^@@VMEXIT@@" -e "^\[ *[0-9.]*\] reboot: "
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
