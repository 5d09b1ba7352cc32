import Engine

/// What the wizard, the list and `show` offer that the engine does not run yet, and what runs
/// instead, said where the choice is made. Each answer becomes nil when its part lands (the
/// SMP, the AHCI and virtio-blk controllers).
enum NotYetAvailable {
    static func cpus(_ count: Int) -> String? { count > 1 ? "not available yet: runs as 1 CPU" : nil }

    /// "VALUE (NOTE)", or VALUE alone when it is real.
    static func annotate(_ value: String, _ note: String?) -> String { note.map { "\(value) (\($0))" } ?? value }
}
