import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct PortaskVerifyCommandTests {
    @Test func exitStatus_isZeroClean_oneDamaged_twoForUsageAndIOErrors() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        #expect(PortaskVerifyCommand.main(arguments: ["--json", partition]) == 0)
        #expect(PortaskVerifyCommand.main(arguments: ["check", "--no-progress", directory.path]) == 0)
        #expect(PortaskVerifyCommand.main(arguments: ["/nonexistent/portask"]) == 2)
        #expect(PortaskVerifyCommand.main(arguments: ["--no-such-flag", partition]) == 2)
        #expect(PortaskVerifyCommand.main(arguments: []) == 2)
        #expect(PortaskVerifyCommand.main(arguments: ["dump", directory.path]) == 2)
        try Damager.modify(partition + "/" + LogSegment.fileName(48, suffix: ".log")) { $0.removeLast(1) }
        #expect(PortaskVerifyCommand.main(arguments: [partition]) == 1)
        #expect(PortaskVerifyCommand.main(arguments: ["--repair", partition]) == 1)
        #expect(PortaskVerifyCommand.main(arguments: [partition]) == 0)
    }

    @Test func progressBar_rendersFractionAndSizes() {
        #expect(ProgressBar.render(done: 512 << 20, total: 1 << 30, width: 10)
                == "[#####.....]  50%  512.0 MiB/1.0 GiB")
        #expect(ProgressBar(total: 1 << 30, enabled: nil).enabled == (isatty(2) == 1))
        #expect(!ProgressBar(total: 10).enabled)
    }
}
