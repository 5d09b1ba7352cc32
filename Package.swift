// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vmtui",
    products: [
        .executable(name: "vmtui", targets: ["vmtui"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CNcurses",
            path: "Sources/CNcurses",
            providers: [.apt(["libncursesw5-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CSlirp",
            path: "Sources/CSlirp",
            providers: [.apt(["libslirp-dev"])]
        ),
        // eventfd, the TUN/TAP and bridge ioctls, fallocate and the OFD locks, from the system headers.
        .systemLibrary(name: "CLinuxHost", path: "Sources/CLinuxHost"),
        // <linux/kvm.h> (Debian linux-libc-dev): KVM's ioctl numbers and structs, header only.
        .systemLibrary(
            name: "CKVM",
            path: "Sources/CKVM",
            providers: [.apt(["linux-libc-dev"])]
        ),
        .target(name: "TUI", dependencies: ["CNcurses"]),
        .target(name: "Engine", dependencies: ["CZlib", "CSlirp", "CLinuxHost", "CKVM"]),
        .executableTarget(
            name: "vmtui",
            dependencies: [
                "TUI", "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers several test targets share (seeded random numbers, the host files guest tests need).
        .target(name: "TestSupport", dependencies: ["CLinuxHost"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "TUITests", dependencies: ["TUI"]),
        .testTarget(name: "CLITests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "CPUTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "DeviceTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Engine", "TestSupport"]),
    ]
)

// The libFuzzer harness of the image parsers, only when scripts/fuzz-storage asks for it
// (it links libFuzzer's main, so ordinary builds must not see it).
if Context.environment["VMTUI_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "StorageFuzz", dependencies: ["Engine"]))
}
