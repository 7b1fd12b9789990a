# A STAND-IN for OpenWrt's kernel.mk (see ../rules.mk): kbuild against
# this machine's Debian kernel headers; KernelPackage makes
# "install-kmod-NAME", which copies its FILES into $(DEST)/kmod-NAME.
LINUX_DIR ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))
LINUX_VERSION := $(patsubst linux-headers-%,%,$(notdir $(LINUX_DIR)))
# SKIP_KMOD=1 leaves the modules out (a second build of the same package).
KERNEL_MAKE := $(if $(SKIP_KMOD),: ,$(MAKE) -C $(LINUX_DIR))

AutoProbe = $(1)

define KernelPackage
$(eval $(KernelPackage/$(1)))
install-kmod-$(1): compile
	$(INSTALL_DIR) $(DEST)/kmod-$(1)/lib/modules/$(LINUX_VERSION)
	$(CP) $(FILES) $(DEST)/kmod-$(1)/lib/modules/$(LINUX_VERSION)/
	echo "$(AUTOLOAD)" > $(DEST)/kmod-$(1)/autoload
endef
