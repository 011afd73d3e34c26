# An AH tunnel (ah_proposals = sha256): ikerd on moon initiates to strongSwan 5.9.8 on sun,
# and then to ikerd on sun. Both gateways install AH SAs (HMAC-SHA2-256, no encryption) and
# their policies; alice's pings reach bob, counted by the AH SAs on both gateways.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

# ah_config HOST: HOST's site configuration with AH instead of ESP.
ah_config() {
	local extra=""
	[ "$1" = moon ] && extra="start_action = start"
	E2E_CHILD_EXTRA="$extra" site_config "$1" "$(host_dir "$1")"
	sed -i 's/esp_proposals = .*/ah_proposals = sha256/' "$(host_dir "$1")/swanctl.conf"
}

# expect_ah_traffic: alice pings bob; each gateway's two AH SAs counted the echoes.
expect_ah_traffic() {
	local host src dst spi line packets
	ping_across alice $BOB
	for host in moon sun; do
		for pair in "$MOON_EXT $SUN_EXT" "$SUN_EXT $MOON_EXT"; do
			read -r src dst <<<"$pair"
			spi=$(ip_in moon xfrm state list src $src dst $dst proto ah | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | head -n 1)
			[ -n "$spi" ] || fail "moon has no AH SA $src -> $dst"
			line=$(ip_in $host -s xfrm state get src $src dst $dst proto ah spi $spi) ||
				fail "$host has no AH SA $src -> $dst spi $spi"
			packets=$(sed -nE 's/^[[:space:]]*[0-9]+\(bytes\), ([0-9]+)\(packets\).*/\1/p' <<<"$line" | head -n 1)
			echo "$host: AH SA $src -> $dst spi $spi: ${packets:-?} packets"
			[ "${packets:-0}" -ge 3 ] || fail "$host's AH SA $src -> $dst counted ${packets:-no} packets"
		done
	done
	[ "$(ip_in moon xfrm state list proto esp | grep -c '^src ')" -eq 0 ] || fail "moon has ESP SAs"
}

topology_site_to_site
ah_config moon
ah_config sun
echo "== ikerd -> strongSwan"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
expect_ah_traffic
stop_ikerd moon "$(host_dir moon)"
pkill -f "charon" 2>/dev/null || true
wait_for_sas sun 0 10 exactly
echo "== ikerd -> ikerd"
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
expect_ah_traffic
