import Foundation
import Testing
@testable import Engine

@Test func configRoundTripsThroughJSON() throws {
    let config = VMConfig(name: "memtest", osType: .other, bootISO: "/usr/lib/memtest86+/memtest86+ia32.iso")
    let data = try JSONEncoder().encode(config)
    let back = try JSONDecoder().decode(VMConfig.self, from: data)
    #expect(back == config)
    #expect(back.memoryMiB == 128)
}

/// A disk written before the full-host-disk policy existed pauses, as it did; the policy is
/// written out for every disk from then on.
@Test func diskWithoutAHostFullPolicyPauses() throws {
    let old = #"{"path": "disk0.qcow2", "format": "qcow2", "interface": "sata"}"#
    let disk = try JSONDecoder().decode(VMConfig.Disk.self, from: Data(old.utf8))
    #expect(disk.onHostDiskFull == .pause && disk.sizeBytes == nil)
    var reported = disk
    reported.onHostDiskFull = .report
    let json = String(decoding: try JSONEncoder().encode(reported), as: UTF8.self)
    #expect(json.contains(#""onHostDiskFull":"report""#), "\(json)")
    #expect(try JSONDecoder().decode(VMConfig.Disk.self, from: Data(json.utf8)) == reported)
    let bad = #"{"path": "d.raw", "format": "raw", "interface": "ide", "onHostDiskFull": "ignore"}"#
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(VMConfig.Disk.self, from: Data(bad.utf8)) }
}
