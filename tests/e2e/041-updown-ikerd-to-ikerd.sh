# ikerd on moon runs its child's updown command as strongSwan does: up-client with the PLUTO_*
# environment when the Child SA comes up, nothing when a rekey replaces it, and down-client
# when sun closes the tunnel.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
dir=$(host_dir moon)
mkdir -p "$dir"
cat >"$dir/updown.sh" <<SCRIPT
#!/bin/sh
env | grep '^PLUTO_' | sort >"$dir/\$PLUTO_VERB.env"
echo "\$PLUTO_VERB \$1" >>"$dir/updown.log"
SCRIPT
chmod +x "$dir/updown.sh"
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start
rekey_time = 3s
life_time = 20s
updown = $dir/updown.sh with-an-argument" site_config moon "$dir"
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$dir"
wait_for_sas moon 2 15
# The script runs in a task of its own: give it a moment.
for _ in $(seq 50); do [ -f "$dir/up-client.env" ] && break; sleep 0.1; done
[ -f "$dir/up-client.env" ] || fail "moon's updown did not run up-client"
cat "$dir/up-client.env"
for want in PLUTO_VERB=up-client PLUTO_CONNECTION=net-net PLUTO_PROTO=esp PLUTO_ME=$MOON_EXT \
	PLUTO_MY_ID=moon.example PLUTO_MY_CLIENT=$ALICE_NET PLUTO_PEER=$SUN_EXT \
	PLUTO_PEER_ID=sun.example PLUTO_PEER_CLIENT=$BOB_NET PLUTO_VERSION=1.1; do
	grep -qx "$want" "$dir/up-client.env" || fail "up-client lacks $want"
done
reqid=$(ip_in moon xfrm state list | sed -nE 's/.* reqid ([0-9]+) .*/\1/p' | head -n 1)
grep -qx "PLUTO_REQID=$reqid" "$dir/up-client.env" || fail "up-client's PLUTO_REQID is not the SAs' $reqid"
grep -qx "up-client with-an-argument" "$dir/updown.log" || fail "the command's argument did not reach it"
# Rekeys every few seconds: the tunnel stays up, so no down and no second up.
sleep 7
grep -q "CHILD_SA .* rekeyed" "$dir/ikerd.log" || fail "no rekey happened"
[ "$(wc -l <"$dir/updown.log")" -eq 1 ] || fail "updown ran for a rekey: $(cat "$dir/updown.log")"
stop_ikerd sun "$(host_dir sun)"
for _ in $(seq 50); do [ -f "$dir/down-client.env" ] && break; sleep 0.1; done
[ -f "$dir/down-client.env" ] || fail "moon's updown did not run down-client after sun closed the tunnel"
grep -qx "PLUTO_PEER_CLIENT=$BOB_NET" "$dir/down-client.env" || fail "down-client lacks PLUTO_PEER_CLIENT"
cat "$dir/updown.log"
