/// Something the HostIOThread asks, every iteration, for descriptors to wait on and a timeout,
/// and then tells what happened (libslirp: slirp_pollfds_fill, then slirp_pollfds_poll).
/// Both calls run on the I/O thread.
public protocol HostIOPoller: AnyObject {
    /// Adds this iteration's descriptors to `set`; may lower `timeoutNanoseconds` (nil: no limit).
    func prepare(_ set: inout HostPollSet, timeoutNanoseconds: inout UInt64?)
    /// Called after the wait with the results (`error` when poll itself failed).
    func dispatch(_ set: HostPollSet, error: Bool)
}
