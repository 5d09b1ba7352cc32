/// Why a VM's configuration cannot be used. Every case says what is wrong and what to do.
public enum VMConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field holds a value outside what is allowed. `file` is nil before the config is on disk.
    case invalid(file: String?, field: String, value: String, problem: String, allowed: String)
    /// The file is not a config vmtui can read (bad JSON, a missing field).
    case malformed(file: String, reason: String)
    /// Written by a newer vmtui; refused and left untouched.
    case newerSchema(file: String, found: Int, supported: Int)
    case notFound(name: String, bundle: String)
    case alreadyExists(name: String, bundle: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(file, field, value, problem, allowed):
            let prefix = file.map { "\($0): " } ?? ""
            return "\(prefix)\(field): \(value) \(problem); allowed \(allowed)"
        case let .malformed(file, reason):
            return "\(file): \(reason)"
        case let .newerSchema(file, found, supported):
            return "\(file): schemaVersion \(found) was written by a newer vmtui (this one reads up to \(supported)); "
                + "left unchanged: upgrade vmtui to use this VM"
        case let .notFound(name, bundle):
            return "no VM named \(name) (looked for \(bundle)); `vmtui list` shows the VMs"
        case let .alreadyExists(name, bundle):
            return "a VM named \(name) already exists (\(bundle)); choose another name or delete it first"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }

    /// A short form for the library list ("broken: REASON"): the description without the file.
    public var reason: String {
        switch self {
        case let .invalid(_, field, value, problem, allowed):
            return "\(field): \(value) \(problem); allowed \(allowed)"
        case let .malformed(_, reason), let .io(_, reason):
            return reason
        case let .newerSchema(_, found, supported):
            return "schemaVersion \(found) is newer than \(supported)"
        case .notFound, .alreadyExists:
            return description
        }
    }

    /// The same error attributed to a file (validation runs before the path is known).
    func located(in file: String) -> VMConfigError {
        if case let .invalid(nil, field, value, problem, allowed) = self {
            return .invalid(file: file, field: field, value: value, problem: problem, allowed: allowed)
        }
        return self
    }
}
