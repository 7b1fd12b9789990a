# shellcheck shell=dash
# A STAND-IN for the parts of OpenWrt that openwrt/fastpath/files/fastpath.init
# and fastpath.hotplug call: config_load/config_get/config_get_bool/
# config_list_foreach (/lib/functions.sh), network_get_device and
# network_get_physdev (/lib/functions/network.sh), procd_* (procd.sh),
# logger, uci and ubus. It is NOT OpenWrt's code and does not behave like
# it beyond what these scripts use: it parses the UCI file itself (config,
# option and list lines, quoted or bare values), answers the network
# lookups from variables the test sets, and writes what procd would be
# told into files. test_openwrt.sh sources it into busybox ash or dash,
# then the init script.
#
# Inputs (set by the test):
#   SI_CONFDIR          directory with the UCI files (fastpath)
#   SI_PHYSDEV_<net>    what network_get_physdev answers for <net>
#   SI_L3DEV_<net>      what network_get_device answers for <net>
#   SI_FLOW_OFFLOADING  what uci answers for firewall.@defaults[0].flow_offloading
#   SI_OUT              procd_* calls are appended here, one per line
#   SI_LOG              logger, ubus and the init script's other calls

si_unquote() {
	local v="$1"

	case "$v" in
	\'*\') v=${v#\'} v=${v%\'} ;;
	\"*\") v=${v#\"} v=${v%\"} ;;
	esac
	printf '%s' "$v"
}

config_load() {
	local kw name val section="" n

	while read -r kw name val; do
		case "$kw" in
		config)
			section=$(si_unquote "$val")
			;;
		option)
			eval "CONFIG_${section}_${name}=\$(si_unquote \"\$val\")"
			;;
		list)
			eval "n=\${CONFIG_${section}_${name}_LENGTH:-0}"
			n=$((n + 1))
			eval "CONFIG_${section}_${name}_ITEM$n=\$(si_unquote \"\$val\")"
			eval "CONFIG_${section}_${name}_LENGTH=$n"
			;;
		esac
	done <"$SI_CONFDIR/$1"
}

# The locals have odd names: "eval $1=..." must not land in one of them.
config_get() {
	local _cg_v

	eval "_cg_v=\${CONFIG_$2_$3-}"
	[ -n "$_cg_v" ] || _cg_v="$4"
	eval "$1=\$_cg_v"
}

config_get_bool() {
	local _cb_v

	config_get _cb_v "$2" "$3" "$4"
	case "$_cb_v" in
	1 | on | true | yes | enabled) _cb_v=1 ;;
	0 | off | false | no | disabled) _cb_v=0 ;;
	*) _cb_v="$4" ;;
	esac
	eval "$1=\$_cb_v"
}

config_list_foreach() {
	local section="$1" option="$2" cb="$3" n i=1 item

	shift 3
	eval "n=\${CONFIG_${section}_${option}_LENGTH:-0}"
	while [ "$i" -le "$n" ]; do
		eval "item=\$CONFIG_${section}_${option}_ITEM$i"
		"$cb" "$item" "$@"
		i=$((i + 1))
	done
}

network_get_physdev() {
	eval "$1=\${SI_PHYSDEV_$2-}"
}

network_get_device() {
	eval "$1=\${SI_L3DEV_$2-}"
}

procd_open_instance() { echo "open_instance" >>"$SI_OUT"; }
procd_set_param() { echo "param $*" >>"$SI_OUT"; }
procd_close_instance() { echo "close_instance" >>"$SI_OUT"; }

logger() {
	local prio=""

	while [ $# -gt 0 ]; do
		case "$1" in
		-t) shift 2 ;;
		-p) prio=$2 && shift 2 ;;
		*) break ;;
		esac
	done
	if [ $# -gt 0 ]; then
		echo "log $prio $*" >>"$SI_LOG"
	else
		sed "s/^/log $prio /" >>"$SI_LOG"
	fi
}

uci() {
	case "$*" in
	"-q get firewall.@defaults[0].flow_offloading") [ -z "$SI_FLOW_OFFLOADING" ] || echo "$SI_FLOW_OFFLOADING" ;;
	*) return 1 ;;
	esac
}

ubus() {
	echo "ubus $*" >>"$SI_LOG"
	# procd's "service delete" stops the instance: so does the stand-in.
	[ "$1 $2 $3" = "call service delete" ] && [ -s "$PIDFILE" ] && kill "$(cat "$PIDFILE")"
	return 0
}
