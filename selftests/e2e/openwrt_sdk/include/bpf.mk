# A STAND-IN for OpenWrt's bpf.mk (see ../rules.mk): the host's clang, and
# the BPF byte order from CONFIG_BIG_ENDIAN as OpenWrt sets it.
BPF_DEPENDS := @HAS_BPF_TOOLCHAIN
CLANG := clang
BPF_TARGET := bpf$(if $(CONFIG_BIG_ENDIAN),eb,el)
