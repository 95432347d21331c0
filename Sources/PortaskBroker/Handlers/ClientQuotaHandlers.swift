import KafkaProtocol

/// DescribeClientQuotas (key 48, v0–1) and AlterClientQuotas (key 49, v0–1) over the `ClientQuotaStore`, whose
/// changes take effect at once in the `ClientQuotaEnforcer`. Thread-safe.
struct ClientQuotaHandlers: Sendable {
    let store: ClientQuotaStore

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(DescribeClientQuotasRequest.self, response: DescribeClientQuotasResponse.self, versions: 0...1) {
                request, _ in
                store.describe(request)
            },
            // The quota file is written and fsynced: off the event loop.
            ApiHandler(
                AlterClientQuotasRequest.self, response: AlterClientQuotasResponse.self, versions: 0...1, blocking: .always
            ) { request, _ in
                try store.alter(request)
            },
        ]
    }
}
