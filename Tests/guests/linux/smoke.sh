#!/bin/sh
# The Linux guest's own checks of the PC it runs on: each line PASS or FAIL, for Tests/scripts/linux-guest.sh.
# modules: ata_piix sr_mod
say() { echo "$*"; echo "$*" > /dev/ttyS0; }
check() { if eval "$2" >/dev/null 2>&1; then say "PASS: $1"; else say "FAIL: $1"; fi; }
# Not "i686": linux-guest.sh waits for that word from a typed `uname -a`.
check "a 686-class CPU with CMOV" "grep -q cmov /proc/cpuinfo"
check "memory as configured (>= 100 MiB)" "[ \$(sed -n 's/MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo) -gt 100000 ]"
check "the PIT and keyboard interrupts counted" "grep -q ' 1: ' /proc/interrupts && grep -q ' 0: ' /proc/interrupts"
check "the CD-ROM seen by ata_piix (sr0)" "[ -b /dev/sr0 ]"
check "a CPU-bound job gives the right result" "[ \$(seq 1 20000 | awk '{s+=\$1} END {print s}') = 200010000 ]"
