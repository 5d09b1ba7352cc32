#!/usr/bin/env bash
# The wizard as a person uses it: create a VM step by step, see it listed and its config.json
# written; Esc on any step writes nothing; edit an existing VM; N switches NAT <-> Bridge.
source "$(dirname "$0")/lib/tmux.bash"
config() { cat "$VMTUI_HOME/VMs/$1.vmtui/config.json"; }
bundles() { ls "$VMTUI_HOME/VMs" 2>/dev/null | wc -l; }

start 80 24
expect "No virtual machines yet"

# Cancel at step 1 and at step 4: nothing written.
keys n
expect "New virtual machine ─ 1 of 7"
keys Escape
expect "cancelled: nothing written"
keys n Enter Enter Enter
expect "4 of 7"
keys Escape
expect "cancelled: nothing written"
check test "$(bundles)" -eq 0

# Tab that completes nothing keeps the focus, so typing goes on in the field; Tab goes round
# Back, Next and Cancel; typing on a button goes back to the field.
keys n Enter Enter
expect "Boot from an ISO image?"
keys /nonexistent/zz Tab
expect "nothing matches \"zz\""
keys x
expect "/nonexistent/zzx"
keys C-u Enter
expect "How much memory and how many CPUs?"
# Number fields: Ctrl-U clears, ↑ on the first field stays there, Tab from the last field is Back.
keys C-u 300
expect_re "Memory +300 MiB"
keys Up 5
expect_re "Memory +3005 MiB"
keys BSpace Down Tab
keys 2
expect_re "CPUs +12 "
keys BSpace Tab
keys Enter
expect "Boot from an ISO image?"
keys Escape
expect "cancelled: nothing written"

# Create: Emulate, Linux, memtest ISO via Tab completion, 256 MiB, no disk, NAT with a forward.
keys n
expect "How should this VM run?"
keys Enter
expect "What will run in it?"
keys Up Up Up Up Enter   # Linux
expect "Boot from an ISO image?"
keys /usr/lib/memtest86 Tab
expect "/usr/lib/memtest86+/"
keys memtest86+i Tab
expect "memtest86+ia32.iso"
keys Enter
expect "4 of 7"
expect "512 MiB"        # Linux default
keys BSpace BSpace BSpace 99999 Enter
expect "Memory must be 4…"
keys BSpace BSpace BSpace BSpace BSpace 256 Enter
expect "Which disk should it have?"
keys Down Down Enter     # No disk
expect "How should it reach the network?"
expect "Host port -> guest port"   # the NIC is in the PC: no 'not available yet' line
keys Tab tcp:2222:22 Enter
expect "Name it and create it?"
expect "Network  NAT  tcp 2222->22"
keys C-u web Enter
expect "created web"
expect_re "▶ web +Linux stopped EMU"
check test -f "$VMTUI_HOME/VMs/web.vmtui/config.json"
config web | grep -q '"memoryMiB" : 256' || fail "memoryMiB not 256: $(config web)"
config web | grep -q '"bootISO" : "/usr/lib/memtest86+/memtest86+ia32.iso"' || fail "ISO not stored"
config web | grep -q '"hostPort" : 2222' || fail "port forward not stored"
config web | grep -q '"osType" : "linux"' || fail "OS not stored"

# A host port forwarded twice is refused on the network step itself; "none" (the field's
# placeholder) means no forwards.
keys n Enter Enter Enter Enter Down Down Enter
expect "How should it reach the network?"
keys Tab "tcp:8080:80, tcp:8080:81" Enter
expect "uses host port 8080 again"
expect "How should it reach the network?"
keys C-u none Enter
expect "Name it and create it?"
expect_re "Network +NAT +│"   # the NIC is in the PC: shown as it is, no note
absent "not available yet"

# A name that is taken is refused on the last step.
keys C-u web Enter
expect "A VM named web already exists"
keys Escape
check test "$(bundles)" -eq 1

# Edit: memory 256 -> 320 with the arrow keys, saved in place.
keys e
expect "Edit web ─ 1 of 7"
keys Enter Enter Enter
expect "256"
keys Right Enter Enter Enter
expect "Save these settings?"
keys Enter
expect "saved web"
config web | grep -q '"memoryMiB" : 320' || fail "edit did not save memory: $(config web)"

# N: NAT -> Bridge asks for the bridge once, then toggles back and forth.
keys N
expect "Which host bridge should web join?"
keys C-u br7 Enter
expect "Network  Bridge br7"
config web | grep -q '"bridgeInterface" : "br7"' || fail "bridge not saved"
keys N
expect "Network  NAT  tcp 2222->22"
keys N
expect "Network  Bridge br7"

# Delete asks first; Cancel is the default.
keys d
expect "Delete web?"
keys Enter
check test "$(bundles)" -eq 1
keys d Left Enter
expect "deleted web"
check test "$(bundles)" -eq 0

# Edit -> Disk -> New image: the old image stays in the bundle, and the wizard says so.
"$VMTUI" create withdisk --disk 1M --network none >/dev/null
expect_re "▶ withdisk" 5
keys e
expect "Edit withdisk ─ 1 of 7"
keys Enter Enter Enter Enter
expect "Which disk should it have?"
keys Down Enter Enter
expect "Save these settings?"
expect_re "Detached +disk0\.[a-z0-9]+ is no longer attached"
keys Enter
expect_re "saved withdisk; the old disk0\.[a-z0-9]+ stays in the VM's folder, unused"
check test -f "$VMTUI_HOME/VMs/withdisk.vmtui/$(ls "$VMTUI_HOME/VMs/withdisk.vmtui" | grep '^disk0')"

keys q
exited 0
pass
