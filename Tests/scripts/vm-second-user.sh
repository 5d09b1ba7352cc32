#!/usr/bin/env bash
# A VM's control socket answers only its own user and root (SO_PEERCRED): a second user, made
# with useradd for the test and removed after, is refused on root's VM with a message naming the
# owner, even with the socket file opened to everyone; root controls the second user's VM.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=$(basename "$0" .sh)
[ -x "$VMTUI" ] || { echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP $TEST_NAME: needs root to create a second user"; exit 77; }
command -v useradd >/dev/null && command -v runuser >/dev/null \
    || { echo "SKIP $TEST_NAME: useradd or runuser is missing (apt-get install passwd util-linux)"; exit 77; }
[ -s /usr/share/seabios/bios-256k.bin ] || { echo "SKIP $TEST_NAME: SeaBIOS is missing (apt-get install seabios)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP $TEST_NAME: nasm is missing (apt-get install nasm)"; exit 77; }
guests=$("$ROOT/scripts/make-test-guests")

peer=vmtuipeer$$
WORK=$(mktemp -d)
chmod 755 "$WORK"
export VMTUI_HOME=$WORK/root-home XDG_RUNTIME_DIR=$WORK/root-run
PEER_HOME=$WORK/peer-home PEER_RUN=$WORK/peer-run
as_peer() { runuser -u "$peer" -- env VMTUI_HOME="$PEER_HOME" XDG_RUNTIME_DIR="$PEER_RUN" LC_ALL=C.UTF-8 "$VMTUI" "$@"; }
cleanup() {
    as_peer stop echo --force >/dev/null 2>&1
    "$VMTUI" stop echo --force >/dev/null 2>&1
    # The user's VM monitor outlives its VM briefly (to report): userdel refuses a user in use.
    for _ in $(seq 50); do pgrep -u "$peer" >/dev/null || break; sleep 0.2; done
    userdel "$peer" 2>/dev/null || echo "vm-second-user: could not remove user $peer: userdel $peer"
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL $TEST_NAME: $*"; exit 1; }
ok() { echo "ok   $TEST_NAME: $*"; }

useradd --system --no-create-home --shell /usr/sbin/nologin "$peer" || fail "useradd $peer"
uid=$(id -u "$peer")
runuser -u "$peer" -- test -x "$VMTUI" || { echo "SKIP $TEST_NAME: $peer cannot run $VMTUI (a directory on its path is private)"; exit 77; }
mkdir -p "$PEER_HOME" "$PEER_RUN"
chown "$peer" "$PEER_HOME" "$PEER_RUN"
chmod 700 "$PEER_RUN"

# Each user's echo guest, running as that user.
cp "$guests/echo.img" "$WORK/root-echo.img"
cp "$guests/echo.img" "$WORK/peer-echo.img"
chown "$peer" "$WORK/peer-echo.img"
"$VMTUI" create echo --floppy "$WORK/root-echo.img" --boot floppy --memory 16 --network none >/dev/null || fail "create as root"
as_peer create echo --floppy "$WORK/peer-echo.img" --boot floppy --memory 16 --network none >/dev/null || fail "create as $peer"
# The name the second user knows root's VM by (its socket is linked in below).
as_peer create rootecho --floppy "$WORK/peer-echo.img" --boot floppy --memory 16 --network none >/dev/null || fail "create rootecho as $peer"
"$VMTUI" start echo | grep -q "started echo" || fail "start as root"
as_peer start echo | grep -q "started echo" || fail "start as $peer: $(cat "$PEER_HOME/VMs/echo.vmtui/vm.log" 2>/dev/null)"
"$VMTUI" wait echo "type here" --timeout 60 || fail "root's echo guest did not boot"
as_peer wait echo "type here" --timeout 60 || fail "$peer's echo guest did not boot"
[ "$(stat -c %u "$PEER_RUN/vmtui/echo.sock")" = "$uid" ] || fail "$peer's VM socket is not $peer's"

# The second user reaches root's socket (a hard link in its own run directory, the socket made
# 0666: only SO_PEERCRED stands in the way) and is refused with a message naming the owner.
ln "$XDG_RUNTIME_DIR/vmtui/echo.sock" "$PEER_RUN/vmtui/rootecho.sock"
chmod 666 "$XDG_RUNTIME_DIR/vmtui/echo.sock"
if refused=$(as_peer type rootecho 'from the second user\n' 2>&1); then fail "$peer typed into root's VM"; fi
[[ "$refused" == *"the VM refused the connection: this VM belongs to uid 0; only that user and root may control it"* ]] \
    || fail "the refusal: $refused"
ok "uid $uid refused on root's VM: $refused"
grep -q "refused a client" "$VMTUI_HOME/VMs/echo.vmtui/vm.log" || fail "the refusal is not in root's VM log"
"$VMTUI" type echo 'root still here\n'
"$VMTUI" wait echo "root still here" --timeout 10 || fail "root's VM stopped answering its owner"
if "$VMTUI" wait echo "from the second user" --timeout 1 2>/dev/null; then fail "the second user's keys reached root's VM"; fi

# Root controls the second user's VM (through a link in root's run directory).
ln "$PEER_RUN/vmtui/echo.sock" "$XDG_RUNTIME_DIR/vmtui/peerecho.sock"
"$VMTUI" type peerecho 'typed by root\n' || fail "root could not type into $peer's VM"
as_peer wait echo "typed by root" --timeout 10 || fail "root's keys did not reach $peer's VM"
ok "root typed into $peer's VM"
rm -f "$XDG_RUNTIME_DIR/vmtui/peerecho.sock" "$PEER_RUN/vmtui/rootecho.sock"
as_peer stop echo --force | grep -q "stopped echo" || fail "$peer could not stop its VM"
echo "PASS $TEST_NAME"
