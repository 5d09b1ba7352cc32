#!/bin/sh
# The Linux guest on 2 CPUs in Emulate (Tests/scripts/linux-smp.sh): each line PASS or FAIL.
say() { echo "$*"; echo "$*" > /dev/ttyS0; }
check() { if eval "$2" >/dev/null 2>&1; then say "PASS: $1"; else say "FAIL: $1"; fi; }
check "2 processors in /proc/cpuinfo" "[ \$(grep -c ^processor /proc/cpuinfo) = 2 ]"
check "IO-APIC lines in /proc/interrupts" "grep -q IO-APIC /proc/interrupts"
check "local APIC timer interrupts on both CPUs" "awk '/LOC:/ { exit !(\$2 > 0 && \$3 > 0) }' /proc/interrupts"
# One CPU-bound job pinned to each CPU (sum of 1..30000), at the same time.
job() { taskset -c "$1" sh -c "seq 1 30000 | awk '{ s += \$1 } END { print s }'" > "/tmp/sum$1"; }
busy1=$(awk '/^cpu1 / { print $2 + $4 }' /proc/stat)
job 0 & job 1 & wait
check "a CPU-bound job on each CPU gives the right result" "[ \"\$(cat /tmp/sum0)\" = 450015000 ] && [ \"\$(cat /tmp/sum1)\" = 450015000 ]"
check "CPU 1 ran its job" "[ \$(awk '/^cpu1 / { print \$2 + \$4 }' /proc/stat) -gt $busy1 ]"
grep -E 'CPU|IO-APIC|LOC|CAL|RES' /proc/interrupts > /dev/ttyS0
