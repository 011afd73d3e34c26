# Configuration shapes with strongSwan 5.9.8 as initiator and ikerd as responder: ikerd accepts
# any peer address (remote_addrs = %any) and has two children, one for ICMP only between the
# networks ([icmp] selectors) and one host-to-host in transport mode between the gateways for
# UDP; strongSwan brings both up on one IKE SA. Pings cross as ESP in the tunnel, the tunnel's
# policies carry the protocol, and the transport SA pair exists beside it.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
E2E_CHILD_EXTRA="local_ts = $ALICE_NET[icmp]
remote_ts = $BOB_NET[icmp]" site_config moon "$(host_dir moon)"
E2E_CHILD_EXTRA="local_ts = $BOB_NET[icmp]
remote_ts = $ALICE_NET[icmp]" site_config sun "$(host_dir sun)"
# (Later values replace the plain selectors site_config wrote before them.)
# A second child on each side: the gateways' own UDP, in transport mode.
add_transport_child() {
	local conf=$1 me=$2 peer=$3
	python3 - "$conf" "$me" "$peer" <<'PY'
import sys
path, me, peer = sys.argv[1:]
text = open(path).read()
child = f"""
\t\t\thost-udp {{
\t\t\t\tmode = transport
\t\t\t\tlocal_ts = {me}/32[udp]
\t\t\t\tremote_ts = {peer}/32[udp]
\t\t\t\tesp_proposals = aes128gcm16
\t\t\t\tstart_action = none
\t\t\t}}
"""
marker = "\t\tchildren {\n"
assert marker in text
text = text.replace(marker, marker + child, 1)
open(path, "w").write(text)
PY
}
add_transport_child "$(host_dir moon)/swanctl.conf" $MOON_EXT $SUN_EXT
add_transport_child "$(host_dir sun)/swanctl.conf" $SUN_EXT $MOON_EXT
sed -i -E "s/remote_addrs = $MOON_EXT/remote_addrs = %any/" "$(host_dir sun)/swanctl.conf"
grep -q "remote_addrs = %any" "$(host_dir sun)/swanctl.conf" || fail "sun's config does not accept any peer"

start_ikerd sun "$(host_dir sun)"
start_charon "$(ns moon)" "$(host_dir moon)"
initiate_charon "$(host_dir moon)" net-net
moon_dir=$(host_dir moon)
STRONGSWAN_CONF="$moon_dir/strongswan.conf" swanctl --initiate --child host-udp --timeout 10 \
	--uri "unix://$moon_dir/charon.vici" >"$moon_dir/swanctl-initiate-udp.out" 2>&1 ||
	fail "strongSwan could not bring up host-udp: $(tail -n 3 "$moon_dir/swanctl-initiate-udp.out")"
wait_for_sas moon 4 15
wait_for_sas sun 4 5
ikes=$(STRONGSWAN_CONF="$moon_dir/strongswan.conf" swanctl --list-sas --uri "unix://$moon_dir/charon.vici" |
	grep -c "ESTABLISHED, IKEv2" || true)
[ "$ikes" = 1 ] || fail "strongSwan holds $ikes IKE SAs; both children belong on one"
policies=$(ip_in sun xfrm policy list)
grep -q "proto icmp" <<<"$policies" || fail "sun's tunnel policies lack the ICMP selector: $policies"
grep -q "proto udp" <<<"$policies" || fail "sun's transport policies lack the UDP selector: $policies"
[ "$(ip_in sun xfrm state list | grep -c 'mode transport')" = 2 ] || fail "sun has no transport SA pair"
ping_across alice $BOB
to_sun=$(ip_in moon xfrm state list src $MOON_EXT dst $SUN_EXT proto esp |
	sed -nE 's/.* spi (0x[0-9a-f]+) .*mode tunnel.*/\1/p' | head -n 1)
[ -n "$to_sun" ] || fail "moon has no tunnel-mode SA to sun"
expect_sa_traffic moon $MOON_EXT $SUN_EXT "$to_sun" 3
expect_sa_traffic sun $MOON_EXT $SUN_EXT "$to_sun" 3
