import Foundation
import Testing
@testable import Engine

/// Inputs that made the libFuzzer harness (scripts/fuzz-storage) fail, each fixed since. They
/// live in Tests/StorageCorpus, outside the test target so SwiftPM does not treat them as resources.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("StorageCorpus").path

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func theCorpusIsThere() {
        #expect(!Self.files.isEmpty, "no files in \(Self.corpus)")
    }

    /// What the fuzzer does with each input: open, read, write, grow, reopen. It must end in a
    /// refusal naming the file, or in an image whose writes read back.
    @Test(arguments: files)
    func crashersNowFailCleanly(name: String) throws {
        let dir = ScratchDirectory()
        let path = dir.file(name)
        try FileManager.default.copyItem(atPath: Self.corpus + "/" + name, toPath: path)
        do {
            #expect(try DiskImage.exercise(path: path), "data written to the accepted image \(name) did not read back")
        } catch {
            #expect(error.path == path)
            #expect(!error.problem.isEmpty)
        }
    }
}
