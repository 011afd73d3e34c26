# The xfrm crate's own real-kernel tests (xfrm/tests/esp.rs, the `esp_` tests): an SA of every
# algorithm added, read back and deleted, parity with iproute2, tunnel, transport and
# UDP-encapsulated SA pairs carrying traffic between namespaces, an ACQUIRE from a trap policy
# and a soft then hard EXPIRE. scripts/e2e builds the test binary on the host first (the
# "needs" line below); the scenario fails naming every test that failed.
# needs: xfrm-esp-tests
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_rust_tests xfrm-esp-tests esp_ 11
