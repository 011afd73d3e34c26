# Rekeying under traffic, for the 05x scenarios: short lifetimes on both sides, a steady ping
# stream from alice to bob, and the count of rekeys ikerd logged. Source after peers.sh.

# The Child SA is rekeyed every 2-3 s (rand_time set: strongSwan's default, life_time less
# rekey_time, would take up to all of the 3 s off), the IKE SA every quarter minute; the hard
# limits are far enough away that a late rekey is not cut off.
REKEY_CHILD="rekey_time = 3s
life_time = 20s
rand_time = 1s"
REKEY_CONN="rekey_time = 15s"

# ping_through SECONDS [SIZE]: alice pings bob 50 times a second for SECONDS (with SIZE bytes
# of data, default 56); fails unless every echo was answered, every one crossed into sun as
# ESP and none in the clear.
ping_through() {
	local count=$(($1 * 50)) size=${2:-56} summary esp plain
	watch_wire sun ext $ALICE_NET
	in_ns alice ping -n -q -i 0.02 -s "$size" -c $count -W 2 $BOB >"$E2E_DIR/ping-stream.log" 2>&1
	summary=$(grep -E 'transmitted' "$E2E_DIR/ping-stream.log")
	echo "alice -> bob: $summary"
	grep -qE "^$count packets transmitted, $count received" <<<"$summary" ||
		fail "packets were lost while rekeying: $summary"
	esp=$(wire_count sun esp)
	plain=$(wire_count sun plain)
	echo "sun: ext received $esp ESP packets, $plain plaintext packets from $ALICE_NET"
	[ "$esp" != missing ] && [ "$esp" -ge $count ] || fail "sun's ext saw $esp ESP packets; expected at least $count"
	[ "$plain" = 0 ] || fail "sun's ext saw $plain plaintext packets from $ALICE_NET outside IPsec"
}

# expect_one_pair_then_clean_stop [charon]: between rekeys each gateway holds exactly one SA
# pair (no redundant pair left behind), and after moon's ikerd stops neither holds any. With
# charon on sun only its outbound SAs are counted: it keeps the inbound SA of a rekeyed pair
# for another 5 s (strongswan.conf's delete_rekeyed_delay), longer than our rekey interval,
# and an SPI it reserved for a rekey under way when moon stopped.
expect_one_pair_then_clean_stop() {
	wait_for_sas moon 2 10 exactly
	if [ "${1:-}" = charon ]; then
		wait_for_sas sun 1 10 exactly $SUN_EXT
	else
		wait_for_sas sun 2 10 exactly
	fi
	stop_ikerd moon "$(host_dir moon)"
	wait_for_sas moon 0 10 exactly
	if [ "${1:-}" = charon ]; then
		# A rekey charon began as moon stopped leaves its reserved SPI (a larval SA, reqid 0)
		# until the kernel drops it: charon's, not a tunnel's; its outbound SAs must be gone.
		wait_for_sas sun 0 10 exactly $SUN_EXT
	else
		wait_for_sas sun 0 10 exactly
	fi
	echo "moon and sun: one SA pair between rekeys, none after moon's ikerd stopped"
}

# count_rekeys HOST: "CHILD IKE", the Child SA and IKE SA rekeys HOST's ikerd logged.
count_rekeys() {
	local log
	log="$(host_dir "$1")/ikerd.log"
	printf '%s %s\n' "$(grep -c 'CHILD_SA .* rekeyed' "$log")" "$(grep -c 'IKE SA .* rekeyed' "$log")"
}

# expect_rekeys HOST MIN-CHILD MIN-IKE: fails unless HOST's ikerd logged that many rekeys.
expect_rekeys() {
	local child ike
	read -r child ike < <(count_rekeys "$1")
	echo "$1: $child Child SA rekeys, $ike IKE SA rekeys"
	[ "$child" -ge "$2" ] && [ "$ike" -ge "$3" ] ||
		fail "$1 rekeyed its Child SA $child times and its IKE SA $ike times; expected at least $2 and $3"
}
