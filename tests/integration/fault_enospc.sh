#!/usr/bin/env bash
# The "disk fills" shim (tests/fault/enospc.c) does what the consensus
# crash tests rely on: writes under OL_FAULT_DIR fail with ENOSPC while the
# flag file exists, and work again once it is gone; files elsewhere are
# never touched. The node-level test (a validator whose WAL cannot be
# written stops signing and says why) uses it once consensus is wired in.
source "$(dirname "$0")/lib/common.sh"
: "${OL_FAULT_ENOSPC_SHIM:?set by ctest}"

mkdir -p "$T_DIR/full" "$T_DIR/free"
FLAG="$T_DIR/disk_full"
probe() {
  LD_PRELOAD=$OL_FAULT_ENOSPC_SHIM OL_FAULT_DIR="$T_DIR/full" OL_FAULT_ENOSPC_FLAG="$FLAG" \
    python3 - "$1" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
try:
    os.write(fd, b"x" * 100)
    print("written")
except OSError as e:
    print("ENOSPC" if e.errno == errno.ENOSPC else "error %d" % e.errno)
PY
}
[[ $(probe "$T_DIR/full/wal") == written ]] || fail "a write failed with no flag"
touch "$FLAG"
[[ $(probe "$T_DIR/full/wal") == ENOSPC ]] || fail "a write under the directory passed with the flag"
[[ $(probe "$T_DIR/free/log") == written ]] || fail "a write outside the directory failed"
rm "$FLAG"
[[ $(probe "$T_DIR/full/wal") == written ]] || fail "writes did not come back without the flag"
[[ $(stat -c %s "$T_DIR/full/wal") == 200 ]] || fail "the failed write left bytes behind"
pass "enospc shim: writes under the directory fail while the flag exists, and only there"
