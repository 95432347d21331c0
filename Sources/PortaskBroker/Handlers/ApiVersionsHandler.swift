import KafkaProtocol

/// ApiVersions (key 18): the served APIs and versions, derived from the router's handlers.
enum ApiVersionsHandler {
    static func make(supported: @escaping @Sendable () -> [(apiKey: ApiKey, versions: ClosedRange<Int16>)]) -> ApiHandler {
        ApiHandler(ApiVersionsRequest.self, response: ApiVersionsResponse.self, versions: 0...4) { _, _ in
            ApiVersionsResponse(
                errorCode: KafkaErrorCode.noError.rawValue,
                apiKeys: supported().map {
                    .init(apiKey: $0.apiKey.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound)
                },
                throttleTimeMs: 0)
        }
    }
}
