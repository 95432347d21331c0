import KafkaProtocol
import NIOCore

/// Requests the codec could not decode: an ApiVersions of an unknown version gets Kafka's v0 answer with
/// UNSUPPORTED_VERSION; anything else closes the connection. Runs on the connection's event loop.
extension KafkaConnectionHandler {
    func rejectUndecodable(context: ChannelHandlerContext, frame: ByteBuffer, error: KafkaProtocolError) {
        if let (apiKey, _, correlationId) = RequestHeader.peek(frame), apiKey == ApiKey.apiVersions.rawValue,
            error.code == .unsupportedVersion
        {
            answerUnsupportedApiVersions(context: context, correlationId: correlationId)
            return
        }
        close(context: context, reason: "undecodable request: \(error)")
    }

    /// Kafka's answer to an ApiVersions request of a version it does not know: the v0 layout (which every
    /// client can read) with UNSUPPORTED_VERSION and the served ranges, so the client can retry.
    func answerUnsupportedApiVersions(context: ChannelHandlerContext, correlationId: Int32) {
        let response = ApiVersionsResponse(
            errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
            apiKeys: router.supportedVersions.map {
                .init(apiKey: $0.apiKey.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound)
            })
        let sequence = begin()
        do {
            let encoded = try KafkaResponseFrame.encodeRetaining(response, version: 0, correlationId: correlationId)
            complete(context: context, sequence: sequence, response: encoded)
        } catch {
            close(context: context, reason: "cannot encode ApiVersions error: \(error)")
        }
    }
}
