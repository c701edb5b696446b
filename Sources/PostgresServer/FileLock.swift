import Foundation

/// An exclusive `flock` on a file, so concurrent processes prepare a cluster one at a time.
struct FileLock {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw EmbeddedPostgresError("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(descriptor)
                throw EmbeddedPostgresError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    func release() {
        close(descriptor)
    }
}
