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
