/// The commands an AHCI port runs for an ATAPI drive: PACKET (the CDB from the command
/// table's ATAPI command area, run by the drive's command set shared with IDE), IDENTIFY
/// PACKET DEVICE, and the few ATA commands a packet device accepts.
extension AHCIPort {
    func execute(_ request: AHCICommandRequest, on drive: ATAPICDROM) -> Outcome {
        switch request.command {
        case 0xA0: // PACKET
            switch drive.runPacket(sata: Array(request.atapiCommand[0..<12])) {
            case .done:
                return .done(transferred: 0, pioIn: false, lba: 0)
            case .failed(let senseKey):
                return .failed(error: senseKey << 4)
            case .data(let reply):
                // The host's PRDT may be shorter than the reply (its allocation length rules).
                let part = Array(reply.prefix(request.capacity))
                guard case .done = send(part, request) else { return .hostBusError }
                // Features bit 0: DMA; otherwise the data came as PIO and gets a PIO setup FIS.
                return .done(transferred: part.count, pioIn: request.features & 1 == 0, lba: 0)
            }
        case 0xA1: // IDENTIFY PACKET DEVICE
            return send(drive.identify(), request)
        case 0x08, 0xEF, 0xE0...0xE6:
            // DEVICE RESET, SET FEATURES, power management: accepted
            return .done(transferred: 0, pioIn: false, lba: 0)
        default: // IDENTIFY DEVICE (the signature says "packet device"), media access commands
            return .failed(error: ATAError.abort)
        }
    }
}
