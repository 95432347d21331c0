import NIOCore

/// Runs Swift concurrency jobs on one NIO event loop, so a connection's request tasks start, suspend and resume
/// on the loop that owns the connection: no hop to the global pool and back for every request.
///
/// Handlers still never wait on the loop: fsyncs run on LogEngine's flush queue and long polls are suspended
/// tasks; what runs here is the appends and reads themselves, as on the event loop of any NIO server.
/// Thread-safe; jobs run in submission order on the loop's thread.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
