# A STAND-IN for OpenWrt's package.mk (see ../rules.mk): BuildPackage
# makes two targets, "compile" (Build/Prepare, then Build/Compile, once)
# and "install-NAME" (Package/NAME/install into $(DEST)/NAME).
PKG_BUILD_DIR := $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_JOBS :=

compile: $(PKG_BUILD_DIR)/.built

$(PKG_BUILD_DIR)/.built:
	rm -rf $(PKG_BUILD_DIR)
	mkdir -p $(PKG_BUILD_DIR)
	$(Build/Prepare)
	$(Build/Compile)
	touch $@

define BuildPackage
$(eval $(Package/$(1)))
install-$(1): compile
	$(call Package/$(1)/install,$(DEST)/$(1))
endef
