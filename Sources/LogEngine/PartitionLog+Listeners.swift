extension PartitionLog {
    /// Registers `listener`, called after every append with the new high watermark: on the appending thread,
    /// after the append lock is released. Meant for waking parked fetches (long polling) without polling; keep
    /// it short, e.g. schedule work on an event loop. Returns an id for `removeAppendListener`.
    ///
    /// Thread-safety: callable from any thread; an append that is already running may or may not call a
    /// listener added meanwhile.
    @discardableResult
    public func addAppendListener(_ listener: @escaping @Sendable (Int64) -> Void) -> Int {
        listeners.withLock { registered in
            registered.nextID += 1
            registered.byID[registered.nextID] = listener
            listenerCount.store(registered.byID.count, ordering: .releasing)
            return registered.nextID
        }
    }

    /// Unregisters the listener with `id` (no effect when it is not registered).
    public func removeAppendListener(_ id: Int) {
        listeners.withLock { registered in
            registered.byID[id] = nil
            listenerCount.store(registered.byID.count, ordering: .releasing)
        }
    }

    /// Calls every listener with `highWatermark`. Callers must not hold the writer lock.
    func notifyAppendListeners(_ highWatermark: Int64) {
        guard listenerCount.load(ordering: .acquiring) > 0 else { return }
        let current = listeners.withLock { Array($0.byID.values) }
        for listener in current { listener(highWatermark) }
    }
}
