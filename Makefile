# fastpath - top-level build. `make help` lists the targets; V=1 is verbose.

CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip

BUILD    := build
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

CFLAGS   ?= -O2 -g
CFLAGS   += -DFP_VERSION=\"0.1\" -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -Iuser
LDLIBS   += -lbpf -lelf -lz -lmnl -lnetfilter_conntrack -lnfnetlink
BPF_CFLAGS := -target bpf -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	      -Iinclude -Ibpf -I$(ARCH_INC)

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

BPF_OBJS := $(BUILD)/fastpath.bpf.o
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
UNIT_SRCS := $(wildcard selftests/unit/*.c)
BENCH_BPF := $(BUILD)/bench.bpf.o

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all check unit e2e vm-check demo bench bench-vm perf-md deps deps-vm install clean help

all: $(BUILD)/fastpath $(BUILD)/test_vectors $(BUILD)/fp_bench $(BENCH_BPF) \
     $(BUILD)/ct_gen $(BUILD)/udp_flood

help:
	@echo 'fastpath targets:'
	@echo '  all        build the XDP object, the skeleton and the fastpath command (default)'
	@echo '  check      install test deps, build, run unit, end-to-end and VM tests (root)'
	@echo '  unit       run only the packet-vector unit tests (root)'
	@echo '  e2e        run only the network-namespace end-to-end tests (root)'
	@echo '  vm-check   run only the tests in the Debian 6.1 VM (selftests/vm, qemu)'
	@echo '  demo       build a lab and show a NAT transfer carried by the fast path (root)'
	@echo '  bench      live-frame benchmark; writes build/bench.json (root)'
	@echo '  bench-vm   the per-packet comparison with nf_flowtable, in the VM'
	@echo '  perf-md    write the tables of docs/PERF.md from build/bench.json'
	@echo '  kmod       build the hardware tier modules (kmod/, KDIR=kernel tree) into build/'
	@echo '  install    install fastpath and its man page under $$(PREFIX) (default /usr/local)'
	@echo '  clean      remove build/'
	@echo 'Set V=1 to print full commands.'

$(BUILD) $(BUILD)/user:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/fastpath.h Makefile | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench.bpf.o: selftests/bench/bench.bpf.c selftests/bench/bench.h include/fastpath.h Makefile | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*_bpf) > $@

$(BUILD)/user/%.o: user/%.c $(wildcard user/*.h) include/fastpath.h $(BUILD)/fastpath.skel.h Makefile | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/fastpath: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/test_vectors: $(UNIT_SRCS) user/names.c $(wildcard selftests/unit/*.h) include/fastpath.h \
		       $(BUILD)/fastpath.skel.h Makefile
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(UNIT_SRCS) user/names.c -o $@ $(LDLIBS)

$(BUILD)/fp_bench: selftests/bench/fp_bench.c selftests/bench/bench.h include/fastpath.h \
		   $(BUILD)/fastpath.skel.h $(BUILD)/bench.skel.h Makefile
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

$(BUILD)/ct_gen $(BUILD)/udp_flood: $(BUILD)/%: selftests/bench/%.c Makefile | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

deps:
	$(Q)scripts/deps.sh

# The VM tests also need qemu, the Debian kernel and its headers.
deps-vm:
	$(Q)scripts/deps.sh vm

check: deps-vm
	$(Q)$(MAKE) --no-print-directory all kmod
	$(Q)selftests/run.sh

vm-check: deps-vm
	$(Q)$(MAKE) --no-print-directory all kmod
	$(Q)selftests/run.sh vm

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

# The hardware tier modules, with kbuild (kmod/Makefile picks KDIR).
.PHONY: kmod
kmod: | $(BUILD)
	$(call msg,KBUILD,kmod/)
	$(Q)$(MAKE) --no-print-directory -C kmod $(if $(KDIR),KDIR=$(KDIR)) $(if $(V),V=$(V)) W=1
	$(Q)cp kmod/fastpath_ppe.ko kmod/ppe_sim.ko $(BUILD)/

PREFIX ?= /usr/local
install: $(BUILD)/fastpath
	install -D -m 0755 $(BUILD)/fastpath $(DESTDIR)$(PREFIX)/sbin/fastpath
	install -D -m 0644 docs/fastpath.8 $(DESTDIR)$(PREFIX)/share/man/man8/fastpath.8

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
