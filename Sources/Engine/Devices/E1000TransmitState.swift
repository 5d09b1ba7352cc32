/// What the 82540EM keeps between transmit descriptors: the last context descriptor (checksum
/// offsets, TSO header length and MSS) and the packet gathered from data descriptors up to EOP.
struct E1000TransmitState {
    // Context descriptor fields (offsets from the start of the frame).
    var ipcss = 0, ipcso = 0, ipcse = 0
    var tucss = 0, tucso = 0, tucse = 0
    var headerLength = 0
    var mss = 0
    var isIPv4 = false
    var isTCP = false

    /// The packet being gathered, and how its first descriptor asked it to be sent.
    var packet: [UInt8] = []
    var started = false
    var dropping = false
    var segmentation = false
    var insertIPChecksum = false
    var insertL4Checksum = false
    /// Legacy descriptors: checksum start and offset (CSS/CSO), VLAN insertion.
    var legacyChecksum: (start: Int, offset: Int)?
    var vlanTag: UInt16?

    /// Forgets the packet (after EOP, or after a garbage descriptor), keeping the context.
    mutating func endPacket() {
        packet.removeAll(keepingCapacity: true)
        started = false
        dropping = false
        segmentation = false
        insertIPChecksum = false
        insertL4Checksum = false
        legacyChecksum = nil
        vlanTag = nil
    }
}
