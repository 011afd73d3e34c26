# strongSwan 5.9.8 on moon initiates to ikerd on sun with an ECDSA certificate from a CA that
# sun does not trust (sun trusts only the RSA test CA): ikerd refuses it with
# AUTHENTICATION_FAILED and logs why, strongSwan gives up on hearing it, and neither kernel
# holds an SA.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
cert_config moon "$(host_dir moon)" ecdsa
cert_config sun "$(host_dir sun)" ecdsa rsa
start_ikerd sun "$(host_dir sun)"
start_charon "$(ns moon)" "$(host_dir moon)"
initiate_charon "$(host_dir moon)" net-net
for _ in $(seq 100); do
	grep -q "received AUTHENTICATION_FAILED notify error" "$(host_dir moon)/charon.log" && break
	sleep 0.1
done
grep -q "received AUTHENTICATION_FAILED notify error" "$(host_dir moon)/charon.log" ||
	fail "charon did not hear AUTHENTICATION_FAILED: $(grep -E '\[IKE\]' "$(host_dir moon)/charon.log" | tail -n 5 | tr '\n' ' ')"
grep -q "certificate not issued by a trusted CA" "$(host_dir sun)/ikerd.log" ||
	fail "ikerd did not log why it refused: $(tail -n 5 "$(host_dir sun)/ikerd.log" | tr '\n' ' ')"
for host in moon sun; do
	[ "$(ip_in $host xfrm state list | grep -c '^src ' || true)" = 0 ] || fail "$host holds SAs"
done
