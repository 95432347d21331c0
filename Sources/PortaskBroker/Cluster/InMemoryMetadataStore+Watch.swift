extension InMemoryMetadataStore {
    public func watch(
        prefix: String, fromRevision: Int64, onChanges: @Sendable ([MetadataChange], Int64) async throws -> Void
    ) async throws {
        var next = fromRevision
        while !Task.isCancelled {
            let (changes, revision, generation) = try state.withLockedValue { state in
                if next <= 0 { next = state.revision &+ 1 }
                guard next > state.compactedThrough else {
                    throw BrokerError(
                        .metadataCompacted, "revision \(next) has been compacted",
                        context: "oldest kept: \(state.compactedThrough &+ 1)")
                }
                let start = Self.firstIndex(in: state.history, atOrAfter: next)
                let changes = state.history[start...].filter { $0.entry.key.hasPrefix(prefix) }
                return (Array(changes), state.revision, state.generation)
            }
            if let last = changes.last {
                try await onChanges(changes, revision)
                next = last.entry.modRevision &+ 1
                continue
            }
            next = max(next, revision &+ 1)
            await waitForChange(after: generation)
        }
    }

    /// Returns once the store changed after `generation`, or when the task is cancelled.
    func waitForChange(after generation: UInt64) async {
        let id = state.withLockedValue { state in
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLockedValue { state in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(generation: generation, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }

    /// Index of the first change at or after `revision` (binary search; history is in revision order).
    static func firstIndex(in history: [MetadataChange], atOrAfter revision: Int64) -> Int {
        var low = 0
        var high = history.count
        while low < high {
            let middle = low + (high - low) / 2
            if history[middle].entry.modRevision < revision { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
