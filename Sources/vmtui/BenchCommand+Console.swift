import ArgumentParser
import Engine
import Foundation

extension BenchCommand {
    /// Keystroke-to-screen latency: what a person typing into the console waits for. The same
    /// measurement runs through a VM process's control socket (what the TUI does) or on a VM run
    /// in this process (what the TUI did before VMs became processes), so the two compare.
    struct Console: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keystroke-to-screen latency of a VM whose guest echoes keys to its screen.",
            discussion: "Types the 'a' key --keys times, one at a time, and times each from the key's "
                + "sending to the first screen update after it. Without --in-process, NAME must be running "
                + "(vmtui start NAME); with it, NAME runs in this process until the measurement ends. "
                + "Use the echo test guest (scripts/make-test-guests); scripts/bench-console-latency sets it up.")

        @Argument(help: "The VM's name.") var name: String
        @Option(help: "Keys to type.") var keys: Int = 1000
        @Flag(name: .customLong("in-process"), help: "Run NAME in this process instead of attaching to its VM process.")
        var inProcess = false
        @Option(help: "Screen text that says the guest is ready for keys.") var ready: String = "ready"
        @Option(help: "Seconds to wait for --ready.") var timeout: Double = 60

        func run() throws {
            guard keys > 0 else { throw ValidationError("--keys must be positive") }
            let control: any VMControl
            if inProcess {
                let library = VMLibrary()
                control = VMSession(config: try library.load(name: name), baseDirectory: library.bundleURL(name: name).path)
            } else {
                control = try VMLauncher.attach(name)
            }
            defer {
                if inProcess { control.powerOff() } else { (control as? VMClient)?.close() }
            }
            try awaitReady(control)
            let stroke = GuestKeyStroke(typing: "a")!
            var samples: [Double] = []
            samples.reserveCapacity(keys)
            for _ in 0..<keys {
                let before = control.screen().version
                let start = ContinuousClock.now
                control.send(stroke)
                while control.screen().version == before {
                    guard control.state.isActive else { throw CLIError(message: "\(name) stopped during the measurement: \(control.state)") }
                    usleep(50)
                }
                samples.append(milliseconds(ContinuousClock.now - start))
                // Slower than KeyFeeder's pace (a make and a break code 5 ms apart), so the
                // feeder never holds a key back: 40 keys a second, still faster than anyone types.
                usleep(25_000)
            }
            samples.sort()
            let percentile = { (p: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
            print("\(inProcess ? "in-process" : "socket") console, \(keys) keys: "
                  + String(format: "median %.2f ms, p99 %.2f ms, max %.2f ms", percentile(0.5), percentile(0.99), samples.last!))
        }

        private func awaitReady(_ control: any VMControl) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while !control.screen().screen.contains(ready) {
                guard Date() < deadline else {
                    throw CLIError(message: "\(name)'s screen did not show \"\(ready)\" within \(timeout) s (state: \(control.state))")
                }
                usleep(10_000)
            }
        }

        private func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }
    }
}
