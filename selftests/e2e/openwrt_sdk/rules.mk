# A STAND-IN for an OpenWrt SDK's rules.mk, not OpenWrt's code: only the
# variables openwrt/fastpath/Makefile uses, set so that the package's
# recipes build for this machine (test_openwrt.sh). The caller sets
# BUILD_DIR and, for a big-endian BPF object, CONFIG_BIG_ENDIAN=y.
INCLUDE_DIR := $(TOPDIR)/include
BUILD_DIR ?= $(TOPDIR)/build_dir
# The toolchain's include directories hold the kernel's UAPI headers; the
# staging dir holds the libraries' headers (libbpf's bpf/*.h). Here both
# are /usr/include.
TOOLCHAIN_DIR := /usr
TOOLCHAIN_INC_DIRS := /usr/include
STAGING_DIR := /
TARGET_CC := gcc
TARGET_CFLAGS := -O2
TARGET_CPPFLAGS :=
TARGET_LDFLAGS :=
CP := cp -fpR
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_DATA := install -m0644
INSTALL_CONF := install -m0600
