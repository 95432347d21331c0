import KafkaProtocol

/// DescribeUserScramCredentials (key 50, v0) and AlterUserScramCredentials (key 51, v0) over the broker's
/// ``ScramCredentialStore``, with Kafka's validation: a user named twice gets DUPLICATE_RESOURCE, an empty name
/// or an iteration count outside 4096…16384 UNACCEPTABLE_CREDENTIAL, an unknown mechanism
/// UNSUPPORTED_SASL_MECHANISM, an unknown user or a deletion of a missing credential RESOURCE_NOT_FOUND.
/// Alterations are written durably before the response. With an authorizer, describing needs DESCRIBE and
/// altering ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED. Thread-safe.
struct ScramCredentialHandlers: Sendable {
    let store: ScramCredentialStore
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(
                DescribeUserScramCredentialsRequest.self, response: DescribeUserScramCredentialsResponse.self,
                versions: 0...0
            ) { request, context in
                guard self.access.allowsCluster(context, .describe) else {
                    return DescribeUserScramCredentialsResponse(
                        errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil, results: [])
                }
                return self.describe(request)
            },
            ApiHandler(
                AlterUserScramCredentialsRequest.self, response: AlterUserScramCredentialsResponse.self, versions: 0...0,
                blocking: .always
            ) { request, context in
                guard self.access.allowsCluster(context, .alter) else {
                    let users = Array(Set(request.deletions.map(\.name) + request.upsertions.map(\.name))).sorted()
                    return AlterUserScramCredentialsResponse(results: users.map {
                        .init(user: $0, errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil)
                    })
                }
                return self.alter(request)
            },
        ]
    }

    func describe(_ request: DescribeUserScramCredentialsRequest) -> DescribeUserScramCredentialsResponse {
        let names = request.users?.map(\.name) ?? []
        let requested = names.isEmpty ? store.users : names
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        var seen = Set<String>()
        var results: [DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult] = []
        for user in requested where seen.insert(user).inserted {
            if counts[user, default: 0] > 1 {
                results.append(.init(
                    user: user, errorCode: KafkaErrorCode.duplicateResource.rawValue,
                    errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request: \(user)",
                    credentialInfos: []))
                continue
            }
            let credentials = store.describe(user: user)
            guard !credentials.isEmpty else {
                results.append(.init(
                    user: user, errorCode: KafkaErrorCode.resourceNotFound.rawValue,
                    errorMessage: "Attempt to describe a user credential that does not exist: \(user)", credentialInfos: []))
                continue
            }
            results.append(.init(
                user: user, errorCode: 0, errorMessage: nil,
                credentialInfos: credentials.map { .init(mechanism: $0.mechanism.rawValue, iterations: $0.iterations) }))
        }
        return DescribeUserScramCredentialsResponse(throttleTimeMs: 0, errorCode: 0, errorMessage: nil, results: results)
    }

    func alter(_ request: AlterUserScramCredentialsRequest) -> AlterUserScramCredentialsResponse {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for user in request.deletions.map(\.name) + request.upsertions.map(\.name) {
            if counts[user] == nil { order.append(user) }
            counts[user, default: 0] += 1
        }
        var errors: [String: (KafkaErrorCode, String)] = [:]
        for user in order where counts[user, default: 0] > 1 {
            errors[user] = (.duplicateResource, "A user credential cannot be altered twice in the same request")
        }
        var deletions: [(user: String, mechanism: ScramMechanism)] = []
        for deletion in request.deletions where errors[deletion.name] == nil {
            if deletion.name.isEmpty {
                errors[deletion.name] = (.unacceptableCredential, "Username must not be empty")
            } else if let mechanism = ScramMechanism(rawValue: deletion.mechanism) {
                if store.credential(user: deletion.name, mechanism: mechanism) == nil {
                    errors[deletion.name] = (.resourceNotFound, "Attempt to delete a user credential that does not exist")
                } else {
                    deletions.append((deletion.name, mechanism))
                }
            } else {
                errors[deletion.name] = (.unsupportedSaslMechanism, "Unknown SCRAM mechanism")
            }
        }
        var upsertions: [(user: String, mechanism: ScramMechanism, credential: ScramCredential)] = []
        for upsertion in request.upsertions where errors[upsertion.name] == nil {
            if upsertion.name.isEmpty {
                errors[upsertion.name] = (.unacceptableCredential, "Username must not be empty")
            } else if let mechanism = ScramMechanism(rawValue: upsertion.mechanism) {
                if upsertion.iterations < ScramMechanism.minimumIterations {
                    errors[upsertion.name] = (.unacceptableCredential, "Too few iterations")
                } else if upsertion.iterations > ScramMechanism.maximumIterations {
                    errors[upsertion.name] = (.unacceptableCredential, "Too many iterations")
                } else if upsertion.salt.readableBytes == 0 || upsertion.saltedPassword.readableBytes == 0 {
                    errors[upsertion.name] = (.unacceptableCredential, "Salt and salted password must not be empty")
                } else {
                    let credential = mechanism.credential(
                        saltedPassword: Array(upsertion.saltedPassword.readableBytesView),
                        salt: Array(upsertion.salt.readableBytesView), iterations: upsertion.iterations)
                    upsertions.append((upsertion.name, mechanism, credential))
                }
            } else {
                errors[upsertion.name] = (.unsupportedSaslMechanism, "Unknown SCRAM mechanism")
            }
        }
        do {
            try store.apply(deletions: deletions, upsertions: upsertions)
        } catch {
            for user in order where errors[user] == nil { errors[user] = (.unknownServerError, "\(error)") }
        }
        return AlterUserScramCredentialsResponse(throttleTimeMs: 0, results: order.map { user in
            let error = errors[user]
            return .init(user: user, errorCode: error?.0.rawValue ?? 0, errorMessage: error?.1)
        })
    }
}
