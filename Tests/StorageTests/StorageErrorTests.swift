import Testing
@testable import Engine

@Test func storageErrorNamesFileAndProblem() {
    let error = StorageError(path: "/vm/disk.qcow2", problem: "L1 table at 0x7fff0000 is past the end of the file")
    #expect(error.description == "/vm/disk.qcow2: L1 table at 0x7fff0000 is past the end of the file")
}
