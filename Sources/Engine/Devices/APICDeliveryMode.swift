/// How an interrupt message is delivered (bits 8-10 of the ICR, an IOAPIC redirection entry
/// and MSI data; SDM vol. 3 §10.6.1).
public enum APICDeliveryMode: UInt8, Sendable {
    case fixed = 0
    case lowestPriority = 1
    case smi = 2
    case nmi = 4
    case initSignal = 5
    case startup = 6
    case extINT = 7
}
