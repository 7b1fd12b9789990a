#!/usr/bin/env bash
# Install what fastpath needs to build, test and benchmark on Debian 12 / Ubuntu.
# Packages already present are skipped, so this is cheap to call from every target.
set -euo pipefail

pkgs=(
	make gcc clang llvm pkg-config
	libbpf-dev libelf-dev zlib1g-dev bpftool
	libmnl-dev libnetfilter-conntrack-dev
	iproute2 iputils-ping ethtool nftables conntrack iperf3 socat netcat-openbsd
	python3 jq bc shellcheck musl-tools
)

# Extra packages a caller asks for, e.g. "deps.sh vm" for the VM harness.
for extra in "$@"; do
	case "$extra" in
	vm) pkgs+=(qemu-system-x86 busybox-static linux-image-amd64 linux-headers-amd64 kmod cpio ppp pppoe) ;;
	*) echo "deps.sh: unknown group '$extra'" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root to install)" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
