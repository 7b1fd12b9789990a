# fastpath - top-level build. `make help` lists the targets; V=1 is verbose.

CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip

# "make cross" runs this Makefile again with BUILD=build/ARCH, the cross
# CC, SYSROOT (the target's libraries, scripts/deps.sh cross) and the
# target's BPF byte order: the rules below serve both builds.
BUILD    ?= build
SYSROOT  ?=
BPF_TARGET ?= bpf
# The uapi asm/ headers for BPF: BPF is a 64-bit CPU, so a cross build of
# a 32-bit target still takes a 64-bit CPU's of the same byte order.
ARCH_INC ?= /usr/include/$(shell $(CC) -dumpmachine)

CFLAGS   ?= -O2 -g
CFLAGS   += -DFP_VERSION=\"0.1\" -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -Iuser
LDLIBS   += -lbpf -lelf -lz -lmnl -lnetfilter_conntrack -lnfnetlink
ifneq ($(SYSROOT),)
CFLAGS   += --sysroot=$(SYSROOT)
LDFLAGS  += --sysroot=$(SYSROOT)
endif
BPF_CFLAGS := -target $(BPF_TARGET) -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	      -Iinclude -Ibpf -I$(ARCH_INC)

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

BPF_OBJS := $(BUILD)/fastpath.bpf.o
# user/: lib/ <- daemon/ <- cli/ (scripts/check_layers.sh, docs/DESIGN.md "Architecture")
USER_SRCS := $(wildcard user/lib/*.c user/daemon/*.c user/cli/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard user/*/*.h)
# The daemon's state machine without libbpf, conntrack or netlink: the
# unit-user tests link only these (and their fake ops).
FSM_SRCS := user/daemon/conn_fsm.c user/daemon/conntab.c user/daemon/neightab.c user/lib/siphash.c \
	    user/lib/log.c user/lib/fmt.c
UNIT_USER_SRCS := $(wildcard selftests/unit-user/*.c)
UNIT_SRCS := $(filter-out %.bpf.c,$(wildcard selftests/unit/*.c))
BENCH_BPF := $(BUILD)/bench.bpf.o

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all check unit unit-user e2e vm-check vm-check-all cross deps deps-vm deps-cross demo bench perf-md \
	bench-vm install clean help

all: $(BUILD)/fastpath $(BUILD)/test_vectors $(BUILD)/fp_bench $(BENCH_BPF) \
     $(BUILD)/ct_gen $(BUILD)/udp_flood $(BUILD)/test_conn_fsm

help:
	@echo 'fastpath targets:'
	@echo '  all        build the XDP object, the skeleton and the fastpath command (default)'
	@echo '  check      install test deps, build, run unit, end-to-end and VM tests (root)'
	@echo '  unit       run only the packet-vector unit tests (root)'
	@echo '  unit-user  run the daemon state-machine tests (any user, no kernel)'
	@echo '  e2e        run only the network-namespace end-to-end tests (root)'
	@echo '  vm-check   run only the tests in the Debian 6.1 VM (selftests/vm, qemu)'
	@echo '  demo       build a lab and show a NAT transfer carried by the fast path (root)'
	@echo '  bench      live-frame benchmark; writes build/bench.json (root)'
	@echo '  bench-vm   the per-packet comparison with nf_flowtable, in the VM'
	@echo '  perf-md    write the tables of docs/PERF.md from build/bench.json'
	@echo '  kmod       build fastpath.ko (kmod/) and the test fixture ppe_sim.ko (KDIR=kernel tree) into build/'
	@echo '             KVER=6.12...: against that kernel (build/kmod-KVER/);'
	@echo '             ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-: linux-headers-arm64 (build/arm64/kmod/);'
	@echo '             ARCH=arm|mips|s390, CROSS_COMPILE=arm-linux-gnueabihf-|mipsel-linux-gnu-|s390x-linux-gnu-'
	@echo '  cross      ARCH=arm64|armhf|mipsel|s390x: everything of "all" for that CPU, in build/ARCH/'
	@echo '  vm-check VM_ARCH=ARCH   the packet vectors in that CPU'"'"'s Debian kernel (qemu TCG)'
	@echo '  vm-check-all            vm-check, every VM_ARCH, and the daemon labs on arm64 and mipsel'
	@echo '  install    install fastpath and its man page under $$(PREFIX) (default /usr/local)'
	@echo '  clean      remove build/'
	@echo 'Set V=1 to print full commands.'

$(BUILD) $(BUILD)/user/lib $(BUILD)/user/daemon $(BUILD)/user/cli:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/fastpath.h Makefile | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/recycle.bpf.o $(BUILD)/headroom.bpf.o: $(BUILD)/%.bpf.o: selftests/unit/%.bpf.c \
		$(wildcard bpf/*.h) include/fastpath.h Makefile | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench.bpf.o: selftests/bench/bench.bpf.c selftests/bench/bench.h include/fastpath.h Makefile | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*_bpf) > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) include/fastpath.h include/fastpath_genl.h \
		   $(BUILD)/fastpath.skel.h Makefile | $(BUILD)/user/lib $(BUILD)/user/daemon $(BUILD)/user/cli
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/fastpath: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# recycle.c runs the flow-table writers of user/lib/flowtab.c (and its log),
# tc_partial.c attaches the TC program as the daemon does (user/lib/tc.c).
TV_LIBS := user/lib/names.c user/lib/flowtab.c user/lib/log.c user/lib/tc.c user/lib/rtnl.c
$(BUILD)/test_vectors: $(UNIT_SRCS) $(TV_LIBS) $(wildcard selftests/unit/*.h) include/fastpath.h \
		       user/lib/flowtab.h user/lib/tc.h $(BUILD)/fastpath.skel.h $(BUILD)/recycle.skel.h \
		       $(BUILD)/headroom.skel.h Makefile
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(UNIT_SRCS) $(TV_LIBS) -o $@ $(LDLIBS)

# No libbpf, no libnetfilter_conntrack, no libmnl: nothing but the code under test.
$(BUILD)/test_conn_fsm: $(UNIT_USER_SRCS) $(FSM_SRCS) $(USER_HDRS) $(wildcard selftests/unit-user/*.h) \
			include/fastpath.h Makefile | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(UNIT_USER_SRCS) $(FSM_SRCS) -o $@

unit-user: $(BUILD)/test_conn_fsm $(BUILD)/fastpath
	$(Q)scripts/check_layers.sh && $(BUILD)/test_conn_fsm

# The TC program goes where the daemon puts it (user/lib/tc.c).
BENCH_LIBS := user/lib/tc.c user/lib/rtnl.c user/lib/log.c
$(BUILD)/fp_bench: selftests/bench/fp_bench.c $(BENCH_LIBS) user/lib/tc.h selftests/bench/bench.h \
		   include/fastpath.h $(BUILD)/fastpath.skel.h $(BUILD)/bench.skel.h Makefile
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(BENCH_LIBS) -o $@ $(LDLIBS)

$(BUILD)/ct_gen $(BUILD)/udp_flood: $(BUILD)/%: selftests/bench/%.c Makefile | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

deps:
	$(Q)scripts/deps.sh

# The VM tests also need qemu, the Debian kernel and its headers.
deps-vm:
	$(Q)scripts/deps.sh vm

check: deps-vm deps-cross
	$(Q)$(MAKE) --no-print-directory all kmod
	$(Q)selftests/run.sh

# VM_ARCH=arm64|armhf|mipsel|s390x: only the packet vectors, in that CPU's
# Debian kernel (selftests/vm/test_vectors_cross.sh).
ifeq ($(VM_ARCH),)
vm-check: deps-vm deps-cross
	$(Q)$(MAKE) --no-print-directory all kmod
	$(Q)selftests/run.sh vm
else
vm-check: deps-cross
	$(Q)selftests/run.sh cross-$(VM_ARCH)
endif

# Everything in VMs: the amd64 VM suites (6.1 and 6.12) and the vectors on
# every other CPU, which "make check" runs too, plus what is too slow under
# TCG for it: every group of test_kmod_612, and the daemon lab on arm64
# and mipsel (selftests/vm/lab_cross.sh).
vm-check-all: deps-vm deps-cross
	$(Q)$(MAKE) --no-print-directory all kmod
	$(Q)FP_KMOD612_ALL=1 selftests/run.sh vm lab-cross

unit: all
	$(Q)selftests/run.sh unit

e2e: all
	$(Q)selftests/run.sh e2e

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench.sh
	$(Q)if scripts/vm.sh --probe 2>/dev/null; then $(MAKE) --no-print-directory bench-vm; \
	    else echo 'bench: no VM here, skipping bench-vm'; fi

bench-vm: deps-vm
	$(Q)$(MAKE) --no-print-directory all
	$(Q)selftests/vm/bench_vm.sh

perf-md:
	$(Q)scripts/perf_md.py

# Cross builds: the rules above again, with the target's compiler, its
# libraries (a sysroot of Debian's packages, scripts/deps.sh cross) and its
# BPF byte order. The skeleton is generated from the target's own BPF
# object. bookworm's libbpf opens objects of the host's byte order only,
# so s390x's big-endian one goes through s390x's own bpftool (from the
# sysroot) under qemu-user; the little-endian ones through this machine's,
# whose skeleton code takes every size from the target's headers.
FP_LIB         ?= /var/lib/fastpath
CROSS_ARCHES   := arm64 armhf mipsel s390x
TRIPLET_arm64  := aarch64-linux-gnu
TRIPLET_armhf  := arm-linux-gnueabihf
TRIPLET_mipsel := mipsel-linux-gnu
TRIPLET_s390x  := s390x-linux-gnu
ENDIAN_arm64   := el
ENDIAN_armhf   := el
ENDIAN_mipsel  := el
ENDIAN_s390x   := eb
BPF_INC_el     := /usr/include/$(shell gcc -dumpmachine)
BPF_INC_eb     := $(FP_LIB)/sysroot-s390x/usr/include/s390x-linux-gnu
CROSS_SYSROOT   = $(FP_LIB)/sysroot-$(ARCH)
CROSS_BPFTOOL   = $(if $(filter eb,$(ENDIAN_$(ARCH))),qemu-$(ARCH) -L $(CROSS_SYSROOT) \
		  $(CROSS_SYSROOT)/usr/sbin/bpftool,$(BPFTOOL))

deps-cross:
	$(Q)scripts/deps.sh cross

cross:
	$(if $(filter $(CROSS_ARCHES),$(ARCH)),,$(error make cross needs ARCH=one of $(CROSS_ARCHES)))
	$(if $(wildcard $(CROSS_SYSROOT)/usr/include),,$(error no $(ARCH) sysroot in $(CROSS_SYSROOT): scripts/deps.sh cross))
	$(Q)$(MAKE) --no-print-directory all BUILD=$(BUILD)/$(ARCH) \
		CC=$(TRIPLET_$(ARCH))-gcc SYSROOT=$(CROSS_SYSROOT) \
		BPF_TARGET=bpf$(ENDIAN_$(ARCH)) ARCH_INC=$(BPF_INC_$(ENDIAN_$(ARCH))) \
		BPFTOOL="$(CROSS_BPFTOOL)"

# The companion module and its test fixture, with kbuild (kmod/Makefile picks KDIR).
# Against another kernel than the default (KVER, KDIR, or ARCH with
# CROSS_COMPILE), kbuild works in a copy of kmod/ under build/, so the
# objects of one kernel never mix with another's:
#   make kmod KVER=6.12.x+deb12-amd64     -> build/kmod-KVER/
#   make kmod ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-   -> build/arm64/kmod/
#   make kmod ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf-   -> build/armhf/kmod/
#   (and ARCH=mips mipsel-linux-gnu-, ARCH=s390 s390x-linux-gnu-)
# KVER's tree is /lib/modules/KVER/build, else the one deps.sh vm unpacked.
# Only the sources are linked: kmod/*.mod.c are modpost's output for the
# default kernel.
KMOD_KDIR = $(or $(KDIR),$(if $(KVER),$(firstword $(wildcard /lib/modules/$(KVER)/build/Makefile \
	$(FP_LIB)/linux-$(KVER)/usr/src/linux-headers-$(KVER)/Makefile))),\
	$(if $(CROSS_COMPILE),$(lastword $(sort $(wildcard \
	$(FP_LIB)/headers-$(KDEBARCH_$(ARCH))/usr/src/linux-headers-*-$(KFLAVOUR_$(ARCH))/Makefile)))))
KMOD_OUT  = $(if $(KVER),$(BUILD)/kmod-$(KVER),$(if $(CROSS_COMPILE),$(BUILD)/$(KDEBARCH_$(ARCH))/kmod))
# A cross build names the kernel's ARCH (arm64, arm, mips, s390): its
# Debian architecture (the headers scripts/deps.sh cross unpacked, and
# build/DEBARCH/) and its Debian kernel flavour.
KDEBARCH_arm64 := arm64
KDEBARCH_arm   := armhf
KDEBARCH_mips  := mipsel
KDEBARCH_s390  := s390x
KFLAVOUR_arm64 := arm64
KFLAVOUR_arm   := armmp-lpae
KFLAVOUR_mips  := 4kc-malta
KFLAVOUR_s390  := s390x

.PHONY: kmod
kmod: | $(BUILD)
ifeq ($(KMOD_OUT),)
	$(call msg,KBUILD,kmod/)
	$(Q)$(MAKE) --no-print-directory -C kmod $(if $(KDIR),KDIR=$(KDIR)) $(if $(V),V=$(V)) W=1
	$(call msg,KBUILD,selftests/kmod/)
	$(Q)$(MAKE) --no-print-directory -C selftests/kmod $(if $(KDIR),KDIR=$(KDIR)) $(if $(V),V=$(V)) W=1
	$(Q)cp kmod/fastpath.ko selftests/kmod/ppe_sim.ko $(BUILD)/
else
	$(if $(KMOD_KDIR),,$(error make kmod: no kernel tree for $(or $(KVER),$(ARCH)) (scripts/deps.sh vm or cross, or KDIR=)))
	$(call msg,KBUILD,$(KMOD_OUT))
	$(Q)mkdir -p $(KMOD_OUT)/kmod $(KMOD_OUT)/selftests/kmod
	$(Q)find $(KMOD_OUT)/kmod $(KMOD_OUT)/selftests/kmod -maxdepth 1 -type l -name '*.mod.c' -delete
	$(Q)for f in $(filter-out %.mod.c,$(wildcard kmod/*.c selftests/kmod/*.c)) kmod/*.h kmod/Kbuild \
		selftests/kmod/*.h selftests/kmod/Kbuild; do ln -sf $(CURDIR)/$$f $(KMOD_OUT)/$$f; done
	$(Q)ln -sfn $(CURDIR)/include $(KMOD_OUT)/include
	$(Q)for d in kmod selftests/kmod; do $(MAKE) --no-print-directory -C $(KMOD_OUT)/$$d \
		-f $(CURDIR)/kmod/Makefile KDIR=$(dir $(KMOD_KDIR)) $(if $(V),V=$(V)) W=1 || exit 1; done
	$(Q)cp $(KMOD_OUT)/kmod/fastpath.ko $(KMOD_OUT)/selftests/kmod/ppe_sim.ko $(KMOD_OUT)/
endif

PREFIX ?= /usr/local
install: $(BUILD)/fastpath
	install -D -m 0755 $(BUILD)/fastpath $(DESTDIR)$(PREFIX)/sbin/fastpath
	install -D -m 0644 docs/fastpath.8 $(DESTDIR)$(PREFIX)/share/man/man8/fastpath.8

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
