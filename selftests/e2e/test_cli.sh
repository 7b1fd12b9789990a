#!/usr/bin/env bash
# The fastpath command's contract: --help everywhere, one-line errors,
# exit status 0/1/2, pins that are private and survive re-adoption, and
# "detach" that removes everything.
source "$(dirname "$0")/../lib.sh"

# expect NAME STATUS CMD...: CMD exits with STATUS and, on failure, prints
# exactly one line on stderr.
expect() {
	local name=$1 want=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, want $want: $(head -c 200 "$TMP/err")"
		return 1
	fi
	if [ "$want" -ne 0 ] && [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		fail "$name" "error is not one line: $(cat "$TMP/err")"
		return 1
	fi
	pass "$name"
}

if ! lab_up; then
	fail cli-setup "lab setup failed"
	exit 1
fi

for c in attach detach flow flows status lease top explain; do
	expect "help-$c" 0 fp "$c" --help
	grep -q '^Usage: fastpath' "$TMP/out" || fail "help-$c" "no usage text"
done
expect help-top 0 fp --help
expect usage-no-command 2 fp
expect usage-unknown-command 2 fp frobnicate
expect usage-bad-mode 2 fp attach --mode turbo r0
expect usage-bad-option 2 fp flows --bogus
expect usage-missing-value 2 fp attach --mode
expect usage-bad-run-option 2 fp run -x r0
expect usage-attach-no-iface 2 fp attach
expect no-such-interface 1 fp attach eth9
grep -qx 'fastpath: eth9: no such interface' "$TMP/err" || fail no-such-interface-text "$(cat "$TMP/err")"
expect flows-not-attached 1 fp flows
expect status-not-attached 0 fp status

expect attach 0 fp attach r0 r1
pins_ok=1
for p in "$FASTPATH_PIN_DIR"/*; do
	[ "$(stat -c %a "$p")" = 600 ] || pins_ok=0
done
[ "$(stat -c %a "$FASTPATH_PIN_DIR")" = 700 ] || pins_ok=0
[ $pins_ok = 1 ] && pass pins-private || fail pins-private "$(ls -l "$FASTPATH_PIN_DIR")"
if bpftool map dump pinned "$FASTPATH_PIN_DIR"/fp_config | grep -q '"lease_expires"'; then
	pass btf-map-dump
else
	fail btf-map-dump "bpftool does not print fields by name"
fi

expect usage-bad-proto 2 fp flow add -i r0 -o r1 -p icmp -s 10.0.1.2:1 -d 10.0.2.2:2
expect usage-bad-endpoint 2 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2 -d 10.0.2.2:2
expect usage-bad-port 2 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:70000 -d 10.0.2.2:2
expect usage-mixed-family 2 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:1 -d '[fd00:2::2]:2'
expect usage-bad-mac 2 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2 --dmac zz
expect usage-missing-out 2 fp flow add -i r0 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2
expect flow-no-neighbour 1 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:1 -d 10.0.2.99:2
expect flow-add 0 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2 --snat 10.0.2.1
expect flow-add-v6 0 fp flow add -i r0 -o r1 -p udp -s '[fd00:1::2]:1' -d '[fd00:2::2]:2' --dmac 02:00:00:00:00:01
expect flow-exists 1 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2
expect flow-replace 0 fp flow add -i r0 -o r1 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2 --replace

expect flows-json 0 fp flows --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==2 and {f["proto"] for f in d}=={"tcp","udp"}' "$TMP/out"; then
	pass flows-json-valid
else
	fail flows-json-valid "$(cat "$TMP/out")"
fi
expect status-json 0 fp status --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["entries"]==2 and d["capacity"]==65536 and [i["mode"] for i in d["interfaces"]]==["native","native"] and d["lease"]["state"]=="off"' "$TMP/out"; then
	pass status-json-valid
else
	fail status-json-valid "$(cat "$TMP/out")"
fi

# A second attach re-adopts the pinned table instead of replacing it.
expect re-adopt 0 fp attach r0 r1
[ "$(fp flows --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] &&
	pass re-adopt-keeps-flows || fail re-adopt-keeps-flows "table changed on re-attach"

expect usage-lease 2 fp lease forever
expect lease-set 0 fp lease 30
fp status --json | grep -q '"state":"valid"' && pass lease-valid || fail lease-valid "lease not shown"
expect lease-off 0 fp lease off

expect flow-del 0 fp flow del -i r0 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2
expect flow-del-missing 1 fp flow del -i r0 -p tcp -s 10.0.1.2:1 -d 10.0.2.2:2
expect detach-one 0 fp detach r1
fp status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [i["name"] for i in d["interfaces"]]==["r0"]' &&
	pass detach-one-left-r0 || fail detach-one-left-r0 "$(fp status)"
tc_id=$(fp status --json | jq -r .tc_prog_id)
expect detach-all 0 fp detach
[ ! -e "$FASTPATH_PIN_DIR" ] && pass detach-removes-pins || fail detach-removes-pins "pins remain"
if ! link=$(in_r ip link show r0); then
	fail detach-removes-xdp "cannot read r0"
elif grep -q xdp <<<"$link"; then
	fail detach-removes-xdp "r0 still has an XDP program"
else
	pass detach-removes-xdp
fi
# The TC program (tcx or a clsact filter, as attached) is gone from r0:
# with no pin and no attachment left, the kernel frees it.
if [ -z "$tc_id" ] || [ "$tc_id" = 0 ]; then
	fail detach-removes-tc "status showed no TC program id"
elif ! wait_for 5 eval '! bpftool prog show id "$tc_id" >/dev/null 2>&1'; then
	fail detach-removes-tc "TC program $tc_id still loaded: $(in_r tc filter show dev r0 ingress)"
else
	pass detach-removes-tc
fi

# --- pins left by another build of fastpath ---
# Another layout of a map (here the flow table's value, 96 bytes): every
# command says so in one line, and "detach" lets go of the devices and
# removes the pins, after which attach loads afresh.
foreign_flows() {
	rm -f "$FASTPATH_PIN_DIR/flows" &&
		bpftool map create "$FASTPATH_PIN_DIR/flows" type hash key 48 value 96 \
			entries 1024 name flows
}
FOREIGN="^fastpath: $FASTPATH_PIN_DIR was pinned by another build of fastpath (flows: value size 96, this build's 104)"
expect foreign-setup 0 fp attach r0 r1
if foreign_flows; then
	for c in "attach r0 r1" flows status "top --once" "explain --no-sample 10.0.2.2" "lease 10"; do
		# shellcheck disable=SC2086
		expect "foreign-pins-${c%% *}" 1 fp $c &&
			{ grep -q "$FOREIGN; run 'fastpath detach' to remove it\$" "$TMP/err" ||
				fail "foreign-pins-${c%% *}-text" "$(cat "$TMP/err")"; }
	done
	expect foreign-pins-detach 0 fp detach
	grep -q "$FOREIGN; removing it\$" "$TMP/err" || fail foreign-pins-detach-text "$(cat "$TMP/err")"
	if [ -e "$FASTPATH_PIN_DIR" ] || in_r ip link show r0 | grep -q xdp; then
		fail foreign-pins-detach-cleans "$(ls "$FASTPATH_PIN_DIR" 2>&1); $(in_r ip link show r0)"
	else
		pass foreign-pins-detach-cleans
	fi
	expect foreign-pins-clean-reload 0 fp attach r0 r1
	expect foreign-pins-reload-flows 0 fp flows
else
	fail foreign-setup "bpftool could not pin a map"
fi
# Only maps left (an attach that failed half way): the same line, not
# libbpf's bare EINVAL, and detach clears them.
fp detach
mkdir -p "$FASTPATH_PIN_DIR"
if foreign_flows; then
	expect foreign-maps-attach 1 fp attach r0 r1 &&
		{ grep -q "$FOREIGN" "$TMP/err" || fail foreign-maps-attach-text "$(cat "$TMP/err")"; }
	fp detach 2>/dev/null
	[ ! -e "$FASTPATH_PIN_DIR" ] && pass foreign-maps-detach-cleans ||
		fail foreign-maps-detach-cleans "$(ls "$FASTPATH_PIN_DIR")"
else
	fail foreign-setup "bpftool could not pin a map"
fi
exit $E2E_FAILED
