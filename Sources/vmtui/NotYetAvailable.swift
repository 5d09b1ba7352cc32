import Engine

/// What the wizard, the list and `show` offer that the engine does not run yet, and what runs
/// instead, said where the choice is made. Each answer becomes nil when its part lands (today:
/// several CPUs under KVM).
enum NotYetAvailable {
    /// Emulate runs every CPU; Virtualize one until the KVM backend runs several.
    static func cpus(_ count: Int, mode: VMConfig.Mode) -> String? {
        count > 1 && mode == .virtualize ? "not available yet in Virtualize: runs as 1 CPU" : nil
    }

    /// "VALUE (NOTE)", or VALUE alone when it is real.
    static func annotate(_ value: String, _ note: String?) -> String { note.map { "\(value) (\($0))" } ?? value }
}
