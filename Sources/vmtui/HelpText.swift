/// The help screen's text and other fixed messages.
enum HelpText {
    static let engineNotWired = "Starting VMs and the console are not wired into this screen yet: the PC engine arrives "
        + "in a later step (issue 5). The VM's settings are saved and ready for it."

    static let lines = [
        "Main screen",
        "  ↑ ↓ j k  Home End PgUp PgDn   select a VM",
        "  n  F2      new VM (wizard)",
        "  e  F4      edit the selected VM (same wizard)",
        "  s  F5      start the VM          Enter   its console",
        "  N  F6      switch network NAT <-> Bridge (asks for the bridge once)",
        "  d  F8 Del  delete the VM and the images in its bundle",
        "  r  Ctrl-L  re-read the VMs from disk",
        "  ?  F1      this help",
        "  q  F10     quit (Ctrl-C too)",
        "",
        "Wizard and dialogs",
        "  Tab / Shift-Tab   next / previous field or button",
        "  ↑ ↓ (← → on one line)   change a choice",
        "  Tab in a path field     complete the file name",
        "  Enter   Next (or the focused button)     Esc   Cancel: nothing is written",
        "",
        "Where things are",
        "  VMs        $VMTUI_HOME/VMs/NAME.vmtui/config.json (default ~/.local/share/vmtui)",
        "  Themes     vmtui --theme NAME; your own in ~/.config/vmtui/themes/NAME.json",
        "  Scripting  vmtui list | create | show | set | delete   (vmtui --help)",
    ]
}
