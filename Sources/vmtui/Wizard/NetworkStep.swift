import Engine
import Foundation
import TUI

/// Step 6: NAT (with optional port forwards), Bridge (a host bridge), or no network.
final class NetworkStep: WizardStep {
    let model: DraftModel
    let heading = "How should it reach the network?"
    let mode: ChoiceField
    let bridge: TextField
    let bridgeNote: TextBlock
    let forwards: TextField
    let forwardsNote: TextBlock
    let form: Form

    static let modes: [VMConfig.Network.Mode] = [.nat, .bridge, .none]

    init(_ model: DraftModel) {
        self.model = model
        mode = ChoiceField(label: "Network", options: [
            ChoiceOption("NAT", "private network through the host"),
            ChoiceOption("Bridge", "on the host's LAN (needs CAP_NET_ADMIN)"),
            ChoiceOption("None", "no network card"),
        ])
        let bridges = model.bridges
        bridge = TextField(label: "Bridge", placeholder: "e.g. br0") { text in bridges.filter { $0.hasPrefix(text) } }
        bridgeNote = TextBlock(text: bridges.isEmpty
            ? "No bridges found on this host (/sys/class/net/*/bridge); type the one you will create."
            : "Host bridges: \(bridges.joined(separator: ", ")) (Tab completes).")
        forwards = TextField(label: "Forwards", placeholder: "none, or e.g. tcp:2222:22, udp:5353:53")
        forwardsNote = TextBlock(text: "Host port -> guest port; connect to 127.0.0.1:HOST on this machine.")
        form = Form(fields: [mode, bridge, bridgeNote, forwards, forwardsNote])
    }

    func enter() {
        let network = model.draft.network
        mode.selected = NetworkStep.modes.firstIndex(of: network.mode) ?? 0
        bridge.text = network.bridgeInterface ?? model.bridges.first ?? ""
        forwards.text = network.portForwards.map { "\($0.proto.rawValue):\($0.hostPort):\($0.guestPort)" }.joined(separator: ", ")
    }

    func update() {
        let current = NetworkStep.modes[mode.selected]
        bridge.isHidden = current != .bridge
        bridgeNote.isHidden = current != .bridge
        forwards.isHidden = current != .nat
        forwardsNote.isHidden = current != .nat
    }

    func commit() -> String? {
        var network = VMConfig.Network(mode: NetworkStep.modes[mode.selected])
        let name = bridge.text.trimmingCharacters(in: .whitespaces)
        if network.mode == .bridge {
            guard !name.isEmpty else { return "Bridge mode needs a host bridge, e.g. br0." }
        }
        network.bridgeInterface = name.isEmpty ? nil : name
        do {
            network.portForwards = try VMConfig.parsePortForwards(forwards.text)
        } catch {
            return "\(error)"
        }
        model.draft.network = network
        return nil
    }
}
