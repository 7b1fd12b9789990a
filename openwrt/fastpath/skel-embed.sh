#!/bin/sh
# skel-embed.sh OBJECT NAME <SKELETON >NEW-SKELETON
#
# Puts OBJECT in place of the BPF object a libbpf skeleton embeds (the body
# of NAME__elf_bytes()). bpftool before libbpf 1.6 cannot open an object of
# the other byte order, so for a big-endian target on a little-endian build
# machine the skeleton's code is generated from a little-endian build of
# the same source, and the target's object is embedded here. The code does
# not depend on the byte order: it names maps, programs and sections, and
# libbpf reads everything else from the embedded object when it opens it.
set -eu

obj=$1
name=$2
[ -s "$obj" ] || { echo "skel-embed.sh: no object '$obj'" >&2; exit 1; }

bytes=$(mktemp)
trap 'rm -f "$bytes"' EXIT
od -An -v -tx1 "$obj" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g' >"$bytes"

awk -v def="static inline const void *${name}__elf_bytes(size_t *sz)" -v bytes="$bytes" '
	$0 == def {
		print
		print "{"
		print "\tstatic const unsigned char data[] __attribute__((__aligned__(8))) = {"
		while ((getline line < bytes) > 0)
			print line
		print "\t};"
		print ""
		print "\t*sz = sizeof(data);"
		print "\treturn (const void *)data;"
		print "}"
		skip = 1
		done = 1
		next
	}
	skip && $0 == "}" { skip = 0; next }
	!skip { print }
	END {
		if (!done) {
			print "skel-embed.sh: no " def " in the skeleton" > "/dev/stderr"
			exit 1
		}
	}'
