import Foundation

/// The system's reason for a failed file operation ("No such file or directory (at /proc/x)"),
/// instead of Foundation's "The operation could not be completed" or a raw NSError dump.
public enum FileErrorText {
    public static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        let reason = underlying.map { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : $0.localizedDescription }
            ?? nsError.localizedDescription
        guard let at = nsError.userInfo[NSFilePathErrorKey] as? String else { return reason }
        return "\(reason) (at \(at))"
    }
}
