/// `<data.dir>/meta.properties`, as Kafka (KRaft) writes it:
/// ```
/// #
/// version=1
/// cluster.id=<22-character base64url id>
/// node.id=<int>
/// directory.id=<22-character base64url id>
/// ```
/// Thread-safety: a value type.
public struct MetaProperties: Sendable, Equatable {
    public var version: Int
    public var clusterID: String
    public var nodeID: Int32
    public var directoryID: String

    public init(version: Int = 1, clusterID: String, nodeID: Int32, directoryID: String = MetaProperties.randomID()) {
        self.version = version
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.directoryID = directoryID
    }

    /// Parses `key=value` lines, ignoring comments. Throws `invalidArgument` when a field is missing.
    public init(parsing text: String, path: String = "") throws {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals]).trimmingSpacesAround()] = String(line[line.index(after: equals)...]).trimmingSpacesAround()
        }
        guard let version = fields["version"].flatMap({ Int($0) }), let clusterID = fields["cluster.id"],
              let nodeID = (fields["node.id"] ?? fields["broker.id"]).flatMap({ Int32($0) })
        else { throw LogEngineError(.invalidArgument, "meta.properties lacks version, cluster.id or node.id", context: path) }
        self.init(version: version, clusterID: clusterID, nodeID: nodeID, directoryID: fields["directory.id"] ?? "")
    }

    public var text: String {
        "#\nversion=\(version)\ncluster.id=\(clusterID)\nnode.id=\(nodeID)\ndirectory.id=\(directoryID)\n"
    }

    /// 16 random bytes in unpadded base64url, the form of Kafka's cluster and directory ids.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var result = ""
        var bits: UInt32 = 0
        var bitCount = 0
        for byte in bytes {
            bits = (bits << 8) | UInt32(byte)
            bitCount += 8
            while bitCount >= 6 {
                bitCount -= 6
                result.append(alphabet[Int((bits >> UInt32(bitCount)) & 0x3F)])
            }
        }
        if bitCount > 0 { result.append(alphabet[Int((bits << UInt32(6 - bitCount)) & 0x3F)]) }
        return result
    }
}

extension String {
    func trimmingSpacesAround() -> String { Substring(self).trimmingSpaces() }
}
