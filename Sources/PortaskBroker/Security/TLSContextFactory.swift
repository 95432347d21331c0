import Foundation
import NIOSSL

/// Builds the TLS server context of a listener from Kafka's `ssl.*` properties (PEM key material only).
///
/// Key store: `ssl.keystore.location` (a PEM file holding the private key and the certificate chain) or the
/// inline `ssl.keystore.key` with `ssl.keystore.certificate.chain`; `ssl.key.password` decrypts an encrypted
/// key. Trust store (client certificates): `ssl.truststore.location` or inline `ssl.truststore.certificates`.
/// `ssl.client.auth` none/requested/required, `ssl.enabled.protocols` (TLSv1.2, TLSv1.3) and
/// `ssl.cipher.suites` (IANA names) as Kafka reads them. Stateless; thread-safe.
enum TLSContextFactory {
    static func makeContext(for listener: ListenerSecurity) throws -> NIOSSLContext {
        let ssl = listener.ssl
        let name = listener.listenerName
        func problem(_ text: String) -> BrokerError {
            BrokerError(.configuration, "listener \(name): \(text)")
        }
        for storeType in ["ssl.keystore.type", "ssl.truststore.type"] where (ssl[storeType] ?? "PEM").uppercased() != "PEM" {
            throw problem("\(storeType)=\(ssl[storeType] ?? "") is not served; only PEM key material is")
        }
        let keyBytes: [UInt8]
        let chainBytes: [UInt8]
        if let key = ssl["ssl.keystore.key"], let chain = ssl["ssl.keystore.certificate.chain"] {
            keyBytes = Array(key.utf8)
            chainBytes = Array(chain.utf8)
        } else if let location = ssl["ssl.keystore.location"] {
            guard let data = FileManager.default.contents(atPath: location) else {
                throw problem("cannot read ssl.keystore.location \(location)")
            }
            keyBytes = Array(data)
            chainBytes = Array(data)
        } else {
            throw problem("a TLS listener needs ssl.keystore.location or ssl.keystore.key with ssl.keystore.certificate.chain")
        }
        let password = Array((ssl["ssl.key.password"] ?? "").utf8)
        let privateKey: NIOSSLPrivateKey
        let chain: [NIOSSLCertificate]
        do {
            privateKey = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem) { setter in setter(password) }
            chain = try NIOSSLCertificate.fromPEMBytes(chainBytes)
        } catch {
            throw problem("invalid PEM key store (key, certificate chain or ssl.key.password): \(error)")
        }
        guard !chain.isEmpty else { throw problem("the key store holds no certificate") }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        var trusted: [NIOSSLCertificate] = []
        do {
            if let inline = ssl["ssl.truststore.certificates"] {
                trusted = try NIOSSLCertificate.fromPEMBytes(Array(inline.utf8))
            } else if let location = ssl["ssl.truststore.location"] {
                trusted = try NIOSSLCertificate.fromPEMFile(location)
            }
        } catch {
            throw problem("invalid PEM trust store: \(error)")
        }
        if !trusted.isEmpty {
            configuration.trustRoots = .certificates(trusted)
            configuration.sendCANameList = true
        }
        switch listener.clientAuth {
        case .none: configuration.certificateVerification = .none
        case .requested: configuration.certificateVerification = .optionalVerification
        case .required: configuration.certificateVerification = .noHostnameVerification
        }
        let versions = try (ssl["ssl.enabled.protocols"] ?? "TLSv1.2,TLSv1.3").split(separator: ",")
            .map { text -> TLSVersion in
                switch text.trimmingWhitespace() {
                case "TLSv1.2": return .tlsv12
                case "TLSv1.3": return .tlsv13
                case "TLSv1.1": return .tlsv11
                case "TLSv1": return .tlsv1
                default: throw problem("unknown protocol '\(text)' in ssl.enabled.protocols")
                }
            }
        guard let lowest = versions.min(by: rank), let highest = versions.max(by: rank) else {
            throw problem("ssl.enabled.protocols is empty")
        }
        configuration.minimumTLSVersion = lowest
        configuration.maximumTLSVersion = highest
        if let suites = ssl["ssl.cipher.suites"], !suites.trimmingWhitespace().isEmpty {
            configuration.cipherSuiteValues = try suites.split(separator: ",").map { text in
                let suite = text.trimmingWhitespace()
                guard let cipher = cipherSuitesByName[suite] else {
                    throw problem("unknown or unsupported cipher suite '\(suite)' in ssl.cipher.suites")
                }
                return cipher
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw problem("cannot create the TLS context: \(error)")
        }
    }

    private static func rank(_ lhs: TLSVersion, _ rhs: TLSVersion) -> Bool {
        let order: [TLSVersion] = [.tlsv1, .tlsv11, .tlsv12, .tlsv13]
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }

    /// The TLS 1.2 cipher suites by IANA name (TLS 1.3 suites are not configurable, as with Kafka's JSSE).
    private static let cipherSuitesByName: [String: NIOTLSCipher] = [
        "TLS_RSA_WITH_AES_128_CBC_SHA": .TLS_RSA_WITH_AES_128_CBC_SHA,
        "TLS_RSA_WITH_AES_256_CBC_SHA": .TLS_RSA_WITH_AES_256_CBC_SHA,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": .TLS_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_RSA_WITH_AES_256_GCM_SHA384": .TLS_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_AES_128_GCM_SHA256": .TLS_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384": .TLS_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256": .TLS_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}
