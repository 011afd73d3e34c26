# Two ikerd instances on a dual-stack topology bring up the PSK site-to-site tunnel three times:
# IPv6 inside IPv6, IPv4 inside IPv6 and IPv6 inside IPv4. Each time alice's pings reach bob
# through it, counted on both gateways' SAs, and SIGTERM leaves both kernels empty.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_dual_stack
v4=("$MOON_EXT" "$SUN_EXT" "$ALICE_NET" "$BOB_NET" "$BOB")
v6=("$MOON_EXT6" "$SUN_EXT6" "$ALICE_NET6" "$BOB_NET6" "$BOB6")

# tunnel NAME OUTER INNER: the tunnel with OUTER's gateway addresses and INNER's networks.
tunnel() {
	local name=$1
	local -n outer=$2 inner=$3
	MOON_EXT=${outer[0]} SUN_EXT=${outer[1]} ALICE_NET=${inner[2]} BOB_NET=${inner[3]}
	echo "== $name: $MOON_EXT <-> $SUN_EXT carrying $ALICE_NET <-> $BOB_NET"
	site_config sun "$(host_dir sun)"
	E2E_CHILD_EXTRA="start_action = start" site_config moon "$(host_dir moon)"
	start_ikerd sun "$(host_dir sun)"
	start_ikerd moon "$(host_dir moon)"
	wait_for_sas moon 2 15
	wait_for_sas sun 2 5
	ping_across alice "${inner[4]}"
	expect_esp_both_ways "$MOON_EXT" "$SUN_EXT" 3
	stop_ikerd moon "$(host_dir moon)"
	stop_ikerd sun "$(host_dir sun)"
	wait_for_sas moon 0 5 exactly
	wait_for_sas sun 0 5 exactly
}

tunnel six-in-six v6 v6
tunnel four-in-six v6 v4
tunnel six-in-four v4 v6
