/// A command failure with its exit code: 1 when something failed, 2 for usage or validation.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var code: Int32 = 1

    var description: String { message }
}
