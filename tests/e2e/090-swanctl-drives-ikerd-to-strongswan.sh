# Debian's swanctl drives ikerd on moon, as it drives strongSwan's charon: --load-all of the
# file ikerd started with changes nothing; --initiate brings the tunnel up to strongSwan on sun
# and streams the log until it is; after alice's pings, --list-sas on moon shows the SPIs the
# kernels use (mirrored by sun's charon) and the kernel's packet counters; --counters counts the
# IKE exchanges; --terminate takes it down on both sides.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config sun "$(host_dir sun)"
site_config moon "$(host_dir moon)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"

# swanctl HOST ARGS...: Debian's swanctl against HOST's daemon (ikerd on moon, charon on sun).
swanctl_on() {
	local dir
	dir=$(host_dir "$1")
	shift
	STRONGSWAN_CONF="$dir/strongswan.conf" swanctl "$@" --uri "unix://$dir/charon.vici"
}

moon_dir=$(host_dir moon)
out=$(swanctl_on moon --load-all --noprompt --file "$moon_dir/swanctl.conf" 2>&1) ||
	fail "swanctl --load-all against ikerd failed: $out"
grep -q "successfully loaded 1 connections, 0 unloaded" <<<"$out" ||
	fail "swanctl --load-all: $out"
grep -q "1 connections, 0 new or changed" "$moon_dir/ikerd.log" ||
	fail "ikerd changed something on a load of the file it started with"

out=$(swanctl_on moon --initiate --child net-net 2>&1) || fail "swanctl --initiate: $out"
echo "$out" >"$E2E_DIR/initiate.out"
grep -qE "CHILD_SA net-net\{[0-9]+\} established with SPIs" <<<"$out" ||
	fail "swanctl --initiate streamed no CHILD_SA line: $out"
grep -q "initiate completed successfully" <<<"$out" || fail "swanctl --initiate: $out"
wait_for_sas sun 2 5

to_sun=$(esp_spi moon $MOON_EXT $SUN_EXT)
to_moon=$(esp_spi moon $SUN_EXT $MOON_EXT)
expect_tunnel_traffic "$to_sun" "$to_moon"

# What swanctl lists on moon: the kernel's SPIs and counters. swanctl prints
# "    in  SPI,    BYTES bytes,     PACKETS packets,  ..." for each direction.
listed=$(swanctl_on moon --list-sas 2>&1) || fail "swanctl --list-sas: $listed"
echo "$listed" >"$E2E_DIR/moon-list-sas.out"
sun_listed=$(swanctl_on sun --list-sas 2>&1) || fail "swanctl --list-sas on sun: $sun_listed"
echo "$sun_listed" >"$E2E_DIR/sun-list-sas.out"
# listed_spi TEXT in|out: the SPI of that direction's line.
listed_spi() { sed -nE "s/^ +$2 +([0-9a-f]{8}),.*/\1/p" <<<"$1" | head -n 1; }
# listed_packets TEXT in|out: that line's packet count.
listed_packets() { sed -nE "s/^ +$2 +[0-9a-f]{8}, +[0-9]+ bytes, +([0-9]+) packets.*/\1/p" <<<"$1" | head -n 1; }
[ "0x$(listed_spi "$listed" in)" = "$to_moon" ] || fail "moon lists in SPI $(listed_spi "$listed" in), its kernel has $to_moon"
[ "0x$(listed_spi "$listed" out)" = "$to_sun" ] || fail "moon lists out SPI $(listed_spi "$listed" out), its kernel has $to_sun"
[ "$(listed_spi "$sun_listed" in)" = "$(listed_spi "$listed" out)" ] &&
	[ "$(listed_spi "$sun_listed" out)" = "$(listed_spi "$listed" in)" ] ||
	fail "moon's and sun's daemons list SPIs that do not mirror each other"
read -r _ kernel_in < <(esp_sa_counters moon $SUN_EXT $MOON_EXT "$to_moon")
read -r _ kernel_out < <(esp_sa_counters moon $MOON_EXT $SUN_EXT "$to_sun")
echo "moon lists in $(listed_packets "$listed" in) packets (kernel $kernel_in), out $(listed_packets "$listed" out) (kernel $kernel_out)"
[ "$(listed_packets "$listed" in)" = "$kernel_in" ] && [ "$kernel_in" -ge 3 ] ||
	fail "moon lists $(listed_packets "$listed" in) packets in; its kernel counted $kernel_in"
[ "$(listed_packets "$listed" out)" = "$kernel_out" ] && [ "$kernel_out" -ge 3 ] ||
	fail "moon lists $(listed_packets "$listed" out) packets out; its kernel counted $kernel_out"

counters=$(swanctl_on moon --counters --name net-net 2>&1) || fail "swanctl --counters: $counters"
echo "$counters" >"$E2E_DIR/moon-counters.out"
grep -qE "ike-auth-out-req +: 1$" <<<"$counters" || fail "swanctl --counters: $counters"

out=$(swanctl_on moon --terminate --ike net-net 2>&1) || fail "swanctl --terminate: $out"
grep -q "terminate completed successfully" <<<"$out" || fail "swanctl --terminate: $out"
wait_for_sas sun 0 5 exactly
wait_for_sas moon 0 5 exactly
stop_ikerd moon "$moon_dir"
