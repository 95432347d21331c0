import KafkaProtocol
import NIOCore
import Testing

@Suite struct GeneratedRoundTripTests {
    @Test(arguments: allMessageSamples)
    func everyVersion_roundTripsPopulatedValues(_ sample: MessageSampleCase) throws {
        for version in sample.versions {
            for seed in [1, 4, 9] {
                let size = try sample.check(version, seed)
                #expect(size > 0 || sample.name.hasSuffix("Request"), "\(sample.name) v\(version) encoded to nothing")
            }
        }
    }

    @Test func registry_coversEveryApiKeyRequestAndResponse() {
        let names = Set(allMessageSamples.map(\.name))
        for key in ApiKey.allCases {
            #expect(names.contains("\(key.requestType)"))
            #expect(names.contains("\(key.responseType)"))
        }
    }
}
