#!/usr/bin/env bash
# Boots the test ISOs headless with the release vmtui, from the IDE CD-ROM through SeaBIOS's
# El Torito, and checks each screen: GRUB's menu title, ISOLINUX's prompt, memtest86+'s main
# screen (a running test, 0 errors, memory within 1 MiB of the VM's RAM). Prints the seconds
# from power-on to each marker. Media come from scripts/make-test-media and Debian's memtest86+.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TIMEOUT=${ISO_BOOT_TIMEOUT:-120}
[ -x "$VMTUI" ] || { echo "FAIL iso-boot: $VMTUI is missing (swift build -c release)"; exit 1; }
export VMTUI_HOME=$(mktemp -d)
trap 'rm -rf "$VMTUI_HOME"' EXIT
failed=0
media=$("$ROOT/scripts/make-test-media" 2>/dev/null) || media=""
memtest=/usr/lib/memtest86+/memtest86+ia32.iso
ram_mib=128

# boot NAME ISO MARKER: runs until MARKER shows; leaves the final screen in $VMTUI_HOME/NAME.screen.
boot() {
    local name=$1 iso=$2 marker=$3 start status
    if [ ! -s "$iso" ]; then
        echo "SKIP $name: $iso is absent (scripts/make-test-media builds grub.iso and isolinux.iso; apt-get install memtest86+)"
        return 1
    fi
    "$VMTUI" create "$name" --os other --memory "$ram_mib" --iso "$iso" --disk none --network none >/dev/null || { failed=1; return 1; }
    start=$(date +%s.%N)
    "$VMTUI" run "$name" --headless --until-text "$marker" --timeout "$TIMEOUT" >"$VMTUI_HOME/$name.screen" 2>"$VMTUI_HOME/$name.err"
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAIL $name: no \"$marker\" within $TIMEOUT s (status $status): $(cat "$VMTUI_HOME/$name.err")"
        cat "$VMTUI_HOME/$name.screen"
        failed=1
        return 1
    fi
    echo "ok $name: \"$marker\" after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
}

# expect NAME TEXT: the final screen of NAME shows TEXT.
expect() {
    grep -qF -- "$2" "$VMTUI_HOME/$1.screen" && return 0
    echo "FAIL $1: the screen does not show \"$2\":"; cat "$VMTUI_HOME/$1.screen"; failed=1
}

if boot grub "$media/grub.iso" "vmtui GRUB test menu"; then
    expect grub "GNU GRUB"
    # Enter on the menu runs the entry: keyboard to GRUB, then GRUB's script from the CD.
    if "$VMTUI" run grub --headless --type '\n' --type-after "vmtui GRUB test menu" \
        --until-text "vmtui GRUB entry selected" --timeout "$TIMEOUT" >/dev/null 2>"$VMTUI_HOME/grub.err"; then
        echo "ok grub: Enter selects the entry"
    else
        echo "FAIL grub: the entry did not run: $(cat "$VMTUI_HOME/grub.err")"; failed=1
    fi
fi
boot isolinux "$media/isolinux.iso" "vmtui ISOLINUX test prompt" && expect isolinux "ISOLINUX"
if boot memtest "$memtest" "Status: Testing"; then
    expect memtest "Memtest86+"
    expect memtest "Errors: 0"
    grep -qE "Test #[0-9]+ +\[" "$VMTUI_HOME/memtest.screen" || { echo "FAIL memtest: no running test on the screen"; failed=1; }
    # "Memory  :  127MB" (or GB): within 1 MiB of the VM's RAM.
    figure=$(sed -nE 's/.*Memory +: +([0-9]+)(M|G)B.*/\1 \2/p' "$VMTUI_HOME/memtest.screen" | head -n 1)
    mib=$(awk -v f="$figure" 'BEGIN { split(f, p, " "); print (p[2] == "G" ? p[1] * 1024 : p[1]) }')
    if [ -z "$figure" ] || [ $((mib > ram_mib ? mib - ram_mib : ram_mib - mib)) -gt 1 ]; then
        echo "FAIL memtest: memory figure \"$figure\" is not within 1 MiB of $ram_mib MiB"; failed=1
    else
        echo "ok memtest: memory ${mib} MiB for a $ram_mib MiB VM"
    fi
fi
# Bad boot ISOs: a clear error before boot (status 2, the file named, the fix given), never a crash.
if [ -s "$media/isolinux.iso" ]; then
    bad=$VMTUI_HOME/bad.iso
    cp "$media/isolinux.iso" "$bad"
    "$VMTUI" create bad --iso "$bad" --disk none --network none >/dev/null || failed=1
    check_bad() {  # what, expected message part
        "$VMTUI" run bad --headless --timeout 5 >/dev/null 2>"$VMTUI_HOME/bad.err"
        local status=$?
        if [ "$status" -eq 2 ] && grep -qF "boot ISO $bad $2" "$VMTUI_HOME/bad.err" && grep -qF "vmtui set bad iso=PATH" "$VMTUI_HOME/bad.err"; then
            echo "ok bad ISO ($1): $(cat "$VMTUI_HOME/bad.err")"
        else
            echo "FAIL bad ISO ($1): status $status, $(cat "$VMTUI_HOME/bad.err")"; failed=1
        fi
    }
    rm "$bad"; check_bad vanished "does not exist"
    head -c 100000 "$media/isolinux.iso" > "$bad"; check_bad truncated "is truncated"
    head -c 100000 /dev/zero > "$bad"; check_bad "not ISO 9660" "is not an ISO 9660 image"
fi
exit $failed
