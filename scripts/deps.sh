#!/usr/bin/env bash
# Install what fastpath needs to build, test and benchmark on Debian 12 / Ubuntu.
# Packages already present are skipped, so this is cheap to call from every target.
#
#   scripts/deps.sh             build and host tests
#   scripts/deps.sh vm          + the VM harness (qemu, Debian's 6.1 kernel) and
#                               bookworm-backports' 6.12 kernel for "vm.sh --kernel"
#   scripts/deps.sh cross       + cross compilers, a sysroot of Debian's
#                               libraries for arm64, armhf, mipsel and s390x,
#                               their qemu, each one's Debian kernel and
#                               busybox-static for "vm.sh --arch", and
#                               its linux-headers; and for the daemon
#                               lab on arm64 and mipsel, those CPUs' bash,
#                               iproute2, nftables, conntrack, socat, jq,
#                               coreutils and python3 (vm.sh --lab)
#
# Kernels that are not for this machine's own boot (the foreign ones and
# 6.12) are not installed as packages: installing them would put them in
# /boot, where every "newest kernel" lookup would pick them up. Their
# packages are unpacked under $FP_LIB instead, one tree per kernel.
#
# The target libraries are Debian's packages of that architecture (dpkg
# --add-architecture gives apt their indexes), unpacked into a sysroot per
# architecture rather than installed multiarch: a Multi-Arch: same package
# must have the very version of its amd64 twin, and libc6-dev's chain
# (linux-libc-dev, libssl3 via libtirpc) is at security-update versions
# here that a foreign index may not have (one bad foreign index in a
# suite makes apt drop that suite for every architecture). The sysroot
# also leaves the machine's own packages alone.
set -euo pipefail

FP_LIB=${FP_LIB:-/var/lib/fastpath}
CROSS_ARCHES=(arm64 armhf mipsel s390x)

pkgs=(
	make gcc clang llvm pkg-config
	libbpf-dev libelf-dev zlib1g-dev bpftool
	libmnl-dev libnetfilter-conntrack-dev
	iproute2 iputils-ping ethtool nftables conntrack iperf3 socat netcat-openbsd
	python3 python3-prometheus-client jq bc shellcheck musl-tools
)
want_vm= want_cross=

# Extra packages a caller asks for, e.g. "deps.sh vm" for the VM harness.
for extra in "$@"; do
	case "$extra" in
	vm)
		pkgs+=(qemu-system-x86 busybox-static linux-image-amd64 linux-headers-amd64 kmod cpio ppp pppoe pahole xz-utils)
		want_vm=1
		;;
	cross)
		pkgs+=(gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-mipsel-linux-gnu gcc-s390x-linux-gnu
		       qemu-system-arm qemu-system-mips qemu-system-misc qemu-user cpio xz-utils pahole kmod)
		want_cross=1
		;;
	*) echo "deps.sh: unknown group '$extra'" >&2; exit 2 ;;
	esac
done

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: $1 (run as root to install)" >&2
		exit 1
	fi
}

updated=
apt_update() {
	[ -n "$updated" ] && return 0
	# A mirror caught mid-sync fails one index; the rest are still good.
	apt-get -o DPkg::Lock::Timeout=900 update -qq || true
	updated=1
}

# The foreign architectures for the multiarch -dev packages, and the
# backports suite for Linux 6.12 (only ever used by explicit name: its
# default priority 100 never upgrades anything).
if [ -n "$want_cross" ]; then
	for a in "${CROSS_ARCHES[@]}"; do
		if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
			need_root "architecture $a is not enabled"
			dpkg --add-architecture "$a"
			updated=
		fi
	done
fi
if [ -n "$want_vm" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	need_root "bookworm-backports is not an apt source"
	cat >/etc/apt/sources.list.d/fastpath-bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	need_root "missing packages: ${missing[*]}"
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_update
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# dep_of PKG PREFIX: the first dependency of metapackage PKG named PREFIX*.
dep_of() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n "s/^  Depends: \($2[^ :]*\).*/\1/p" | head -1
}

# unpack TREE PKG...: download PKG... and unpack them into $FP_LIB/TREE.
# The tree is complete once TREE/.done names exactly these packages.
unpack() {
	local tree=$FP_LIB/$1 dl p
	shift
	if [ "$(cat "$tree/.done" 2>/dev/null)" = "$*" ]; then
		return 0
	fi
	need_root "$tree is missing"
	echo "deps.sh: unpacking $* into $tree"
	dl=$(mktemp -d)
	# apt-get download runs as the _apt user where it can.
	chown _apt "$dl" 2>/dev/null || true
	if ! (cd "$dl" && apt-get -o DPkg::Lock::Timeout=900 download -qq "$@"); then
		rm -rf "$dl"
		echo "deps.sh: cannot download $*" >&2
		exit 1
	fi
	rm -rf "$tree"
	mkdir -p "$tree"
	for p in "$dl"/*.deb; do
		dpkg-deb -x "$p" "$tree"
	done
	rm -rf "$dl"
	# Debian's headers name their common half by its absolute path.
	for m in "$tree"/usr/src/linux-headers-*/Makefile; do
		[ -e "$m" ] && sed -i "s|^include /usr/src/|include $tree/usr/src/|" "$m"
	done
	# modules.dep is made at install, which this is not.
	for m in "$tree"/lib/modules/*/; do
		[ -d "$m/kernel" ] && depmod -b "$tree" "$(basename "$m")"
	done
	echo "$*" >"$tree/.done"
}

# needs_name PKG PREFIX: the dependency, or a clear error when the archive
# does not have the metapackage.
needs_name() {
	local n
	n=$(dep_of "$1" "$2")
	if [ -z "$n" ]; then
		apt_update
		n=$(dep_of "$1" "$2")
	fi
	[ -n "$n" ] || { echo "deps.sh: no $2* behind $1 in the apt sources" >&2; exit 1; }
	echo "$n"
}

if [ -n "$want_vm" ]; then
	# Linux 6.12 from bookworm-backports: image, headers and their kbuild.
	img=$(needs_name linux-image-amd64/bookworm-backports linux-image-6.12)
	kver=${img#linux-image-}
	kver=${kver%-unsigned}
	unpack "linux-$kver" "$img" "linux-headers-$kver" \
		"linux-headers-${kver%-amd64}-common" "linux-kbuild-${kver%-amd64}"
fi

# What "make cross" compiles and links against, and what the binaries
# load in the guest: libbpf, libelf, zlib, libmnl, libnetfilter-conntrack
# and libnfnetlink with their -dev files, over the C library; and that
# architecture's bpftool: the skeleton of a big-endian BPF object is made
# by s390x's own bpftool under qemu-user (bookworm's libbpf opens objects
# of its own byte order only), and in the guest it shows the JIT at work.
SYSROOT_PKGS=(libc6 libc6-dev linux-libc-dev libcrypt1 libcrypt-dev libgcc-s1
	libbpf1 libbpf-dev libelf1 libelf-dev zlib1g zlib1g-dev libzstd1
	libmnl0 libmnl-dev libnetfilter-conntrack3 libnetfilter-conntrack-dev
	libnfnetlink0 libnfnetlink-dev bpftool libcap2)

# The daemon lab's tools for the guests of LAB_ARCHES, and the libraries
# they link against that are not in the sysroot (checked by running each
# under qemu-user against sysroot and labroot).
LAB_ARCHES=(arm64 mipsel)
LAB_PKGS=(bash libtinfo6 coreutils libacl1 libattr1
	iproute2 libbsd0 libmd0 libdb5.3 libselinux1 libpcre2-8-0 libtirpc3
	libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1
	libxtables12 nftables libnftables1 libedit2 libjansson4 libnftnl11 libgmp10
	conntrack libnetfilter-cttimeout1 libnetfilter-cthelper0 libnetfilter-queue1
	socat libssl3 libwrap0 libreadline8 libnsl2 libatomic1 jq libjq1 libonig5
	python3-minimal python3.11-minimal libpython3.11-minimal libexpat1 ethtool)

# Debian's kernel flavour of each architecture.
kernel_flavour() {
	case $1 in
	arm64) echo arm64 ;;
	armhf) echo armmp-lpae ;;
	mipsel) echo 4kc-malta ;;
	s390x) echo s390x ;;
	esac
}

if [ -n "$want_cross" ]; then
	for a in "${CROSS_ARCHES[@]}"; do
		unpack "sysroot-$a" "${SYSROOT_PKGS[@]/%/:$a}"
		# The -dev symlinks and libc.so's script name /lib/..., which the
		# linker finds in the sysroot; merged /usr needs the /lib link.
		[ -e "$FP_LIB/sysroot-$a/lib" ] || ln -s usr/lib "$FP_LIB/sysroot-$a/lib"
	done
	# Each architecture's Debian kernel and busybox-static for vm.sh --arch.
	for a in "${CROSS_ARCHES[@]}"; do
		img=$(needs_name "linux-image-$(kernel_flavour "$a"):$a" linux-image-)
		unpack "vm-$a" "$img:$a" "busybox-static:$a"
	done
	# The daemon lab's userland in the guest (vm.sh --lab): the tools
	# selftests/lib.sh runs, with the libraries they need beyond the
	# sysroot's. Unpacked, never installed; vm.sh packs it into the
	# initramfs next to busybox.
	for a in "${LAB_ARCHES[@]}"; do
		unpack "labroot-$a" "${LAB_PKGS[@]/%/:$a}"
		# Installing would have byte-compiled python's modules; without
		# that every start compiles what it imports, a minute on MIPS
		# under TCG. This machine's python3.11 writes the same .pyc.
		lr=$FP_LIB/labroot-$a
		if [ ! -e "$lr/.pyc" ] && command -v python3.11 >/dev/null; then
			python3.11 -m compileall -q "$lr/usr/lib/python3.11" >/dev/null &&
				touch "$lr/.pyc" "$lr/.done"
		fi
	done
	# Each kernel's linux-headers for "make kmod ARCH=... CROSS_COMPILE=...":
	# their kbuild tools are this machine's own (linux-kbuild is Multi-Arch:
	# foreign), their common half is the same for every architecture.
	for a in "${CROSS_ARCHES[@]}"; do
		flavour=$(kernel_flavour "$a")
		hdr=$(needs_name "linux-headers-$flavour:$a" linux-headers-)
		kbuild=$(apt-cache depends "$hdr:$a" | sed -n 's/^  Depends: \(linux-kbuild-[^ :]*\).*/\1/p' | head -1)
		unpack "headers-$a" "$hdr:$a" "${hdr%-"$flavour"}-common" "$kbuild"
	done
fi
exit 0
