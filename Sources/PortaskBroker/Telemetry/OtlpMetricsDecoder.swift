/// Decodes the OTLP metrics a client pushes (KIP-714: an `ExportMetricsServiceRequest` in protobuf) into data
/// points: gauges, and sums (monotonic ones as counters), each with its name and the attributes of its resource
/// and point. Histograms and summaries are skipped. Reads at most `maximumPoints` points and attributes of at
/// most `maximumAttributeBytes`; anything malformed is an error. Stateless; thread-safe.
///
/// The fields read (opentelemetry-proto `metrics/v1`):
/// ```
/// ExportMetricsServiceRequest { ResourceMetrics resource_metrics = 1 }
/// ResourceMetrics { Resource resource = 1; ScopeMetrics scope_metrics = 2 }   Resource { KeyValue attributes = 1 }
/// ScopeMetrics { Metric metrics = 2 }
/// Metric { string name = 1; Gauge gauge = 5; Sum sum = 7 }      Gauge { NumberDataPoint data_points = 1 }
/// Sum { NumberDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2; bool is_monotonic = 3 }
/// NumberDataPoint { fixed64 time_unix_nano = 3; double as_double = 4; sfixed64 as_int = 6; KeyValue attributes = 7 }
/// KeyValue { string key = 1; AnyValue value = 2 }
/// AnyValue { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4 }
/// ```
struct OtlpMetricsDecoder {
    enum Kind: Sendable, Equatable {
        case gauge
        case counter
    }

    struct Point: Sendable, Equatable {
        var name: String
        var kind: Kind
        var attributes: [(key: String, value: String)]
        var value: Double

        /// What keeping the point costs, roughly: its name and attributes.
        var retainedBytes: Int {
            attributes.reduce(name.utf8.count + 64) { $0 + $1.key.utf8.count + $1.value.utf8.count + 32 }
        }

        static func == (left: Point, right: Point) -> Bool {
            left.name == right.name && left.kind == right.kind && left.value == right.value
                && left.attributes.elementsEqual(right.attributes) { $0.key == $1.key && $0.value == $1.value }
        }
    }

    var maximumPoints = 10_000
    var maximumAttributeBytes = 1024

    /// The points of a request, resource attributes first in each point's attributes.
    func decode(_ bytes: [UInt8]) throws(ProtobufReader.Malformed) -> [Point] {
        var points: [Point] = []
        var request = ProtobufReader(bytes[...])
        while let (field, value) = try request.next() {
            guard field == 1, let resourceMetrics = value.message else { continue }
            try decodeResourceMetrics(resourceMetrics, into: &points)
        }
        return points
    }

    private func decodeResourceMetrics(_ bytes: ArraySlice<UInt8>, into points: inout [Point]) throws(ProtobufReader.Malformed) {
        var resource: [(key: String, value: String)] = []
        var scopes: [ArraySlice<UInt8>] = []
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value.message) {
            case (1, let message?):
                var attributes = ProtobufReader(message)
                while let (attributeField, attribute) = try attributes.next() {
                    if attributeField == 1, let keyValue = attribute.message, let pair = try self.keyValue(keyValue) {
                        resource.append(pair)
                    }
                }
            case (2, let message?): scopes.append(message)
            default: continue
            }
        }
        for scope in scopes {
            var reader = ProtobufReader(scope)
            while let (field, value) = try reader.next() {
                guard field == 2, let metric = value.message else { continue }
                try decodeMetric(metric, resource: resource, into: &points)
            }
        }
    }

    private func decodeMetric(
        _ bytes: ArraySlice<UInt8>, resource: [(key: String, value: String)], into points: inout [Point]
    ) throws(ProtobufReader.Malformed) {
        var name = ""
        var data: (kind: Kind, body: ArraySlice<UInt8>)?
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case 1: name = value.string ?? ""
            case 5: if let body = value.message { data = (.gauge, body) }
            case 7: if let body = value.message { data = (try isMonotonic(body) ? .counter : .gauge, body) }
            default: continue
            }
        }
        guard let data, !name.isEmpty else { return }
        var reader2 = ProtobufReader(data.body)
        while let (field, value) = try reader2.next() {
            guard field == 1, let point = value.message else { continue }
            guard points.count < maximumPoints else { throw ProtobufReader.Malformed(description: "more than \(maximumPoints) data points") }
            if let decoded = try numberDataPoint(point, name: name, kind: data.kind, resource: resource) {
                points.append(decoded)
            }
        }
    }

    private func isMonotonic(_ sum: ArraySlice<UInt8>) throws(ProtobufReader.Malformed) -> Bool {
        var reader = ProtobufReader(sum)
        while let (field, value) = try reader.next() {
            if field == 3, case .varint(let flag) = value { return flag != 0 }
        }
        return false
    }

    private func numberDataPoint(
        _ bytes: ArraySlice<UInt8>, name: String, kind: Kind, resource: [(key: String, value: String)]
    ) throws(ProtobufReader.Malformed) -> Point? {
        var attributes = resource
        var number: Double?
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (4, .fixed64(let bits)): number = Double(bitPattern: bits)
            case (6, .fixed64(let bits)): number = Double(Int64(bitPattern: bits))
            case (7, .bytes(let keyValue)): if let pair = try self.keyValue(keyValue) { attributes.append(pair) }
            default: continue
            }
        }
        guard let number else { return nil }
        return Point(name: name, kind: kind, attributes: attributes, value: number)
    }

    /// A KeyValue whose value is a string, bool, integer or double, as text; nil for other values.
    private func keyValue(_ bytes: ArraySlice<UInt8>) throws(ProtobufReader.Malformed) -> (key: String, value: String)? {
        guard bytes.count <= maximumAttributeBytes else { throw ProtobufReader.Malformed(description: "attribute too large") }
        var key: String?
        var text: String?
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            if field == 1 { key = value.string }
            guard field == 2, let any = value.message else { continue }
            var anyReader = ProtobufReader(any)
            while let (kind, content) = try anyReader.next() {
                switch (kind, content) {
                case (1, .bytes(let string)): text = String(decoding: string, as: UTF8.self)
                case (2, .varint(let flag)): text = flag != 0 ? "true" : "false"
                case (3, .varint(let integer)): text = String(Int64(bitPattern: integer))
                case (4, .fixed64(let bits)): text = String(Double(bitPattern: bits))
                default: continue
                }
            }
        }
        guard let key, let text else { return nil }
        return (key, text)
    }
}
