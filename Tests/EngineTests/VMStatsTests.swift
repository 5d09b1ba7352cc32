import Testing
import Engine

/// How the list and the detail pane print a VM's disk and network rates.
@Suite struct VMStatsTests {
    @Test(arguments: [(0.0, "0 B/s"), (-3, "0 B/s"), (999, "999 B/s"), (999.6, "1.0 kB/s"), (1500, "1.5 kB/s"),
                      (42_000, "42 kB/s"), (4_194_304, "4.2 MB/s"), (650e6, "650 MB/s"), (2.5e9, "2.5 GB/s"), (3e12, "3000 GB/s")])
    func rateText(_ bytesPerSecond: Double, _ text: String) {
        #expect(VMStats.rateText(bytesPerSecond) == text)
    }

    @Test func ioTextsNameEachRate() {
        var stats = VMStats()
        stats.diskReadRate = 2_000_000
        stats.networkSendRate = 120
        #expect(stats.diskText == "2.0 MB/s read, 0 B/s written")
        #expect(stats.networkText == "0 B/s in, 120 B/s out")
    }

    @Test func perCPUTextNamesEachCPU() {
        var stats = VMStats()
        #expect(stats.perCPUText == nil)
        stats.cpuPercentPerCPU = [99.6, 2.4]
        #expect(stats.perCPUText == "#0 100%  #1 2% CPU", "Virtualize: each vCPU thread's CPU use")
        stats.mipsPerCPU = [52.14, 0.004, 9.996]
        #expect(stats.perCPUText == "#0 52.1  #1 0.00  #2 10.00 MIPS", "Emulate: each vCPU's MIPS")
        stats.mipsPerCPU = [52.14]
        stats.cpuPercentPerCPU = []
        #expect(stats.perCPUText == nil, "one CPU: the status line says it all")
    }
}
