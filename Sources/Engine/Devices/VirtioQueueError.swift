/// A virtqueue the driver built wrongly: the device stops and asks for a reset.
enum VirtioQueueError: Error, Equatable, CustomStringConvertible {
    case outsideRAM(DMAError)
    case availableIndex(UInt16)
    case descriptorIndex(UInt16)
    case loop
    case indirectTable
    case readableAfterWritable

    var description: String {
        switch self {
        case .outsideRAM(let error): "virtqueue: \(error)"
        case .availableIndex(let index): "virtqueue: available index \(index) runs more than a queue ahead"
        case .descriptorIndex(let index): "virtqueue: descriptor index \(index) is past the table"
        case .loop: "virtqueue: descriptor chain loops"
        case .indirectTable: "virtqueue: bad indirect descriptor table"
        case .readableAfterWritable: "virtqueue: a device-readable buffer follows a device-writable one"
        }
    }
}
