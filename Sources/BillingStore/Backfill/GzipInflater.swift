import CZlib

/// Streaming gzip decompression with zlib, members concatenated by `cat a.gz b.gz` included.
/// Not thread-safe: one file's reader owns it.
final class GzipInflater {
    private var stream = z_stream()
    private var ended = false

    /// Prepares zlib for gzip input.
    init() throws(BackfillError) {
        // 15 + 16: a gzip header is required (zlib's "windowBits + 16").
        guard czlib_inflate_init2(&stream, 15 + 16) == Z_OK else { throw BackfillError("zlib could not be initialised") }
    }

    deinit {
        inflateEnd(&stream)
    }

    /// Decompresses `input` (the next bytes of the file) and appends the result to `output`.
    func inflate(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(BackfillError) {
        guard input.count > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var offset = 0
        var outputPending = false
        while offset < input.count || outputPending {
            if ended, offset < input.count {
                // Another gzip member follows the one that ended.
                guard inflateReset(&stream) == Z_OK else { throw BackfillError("zlib could not start the next gzip member") }
                ended = false
            }
            let before = offset
            let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(input.count - offset)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                offset = input.count - Int(stream.avail_in)
                return status
            }
            let produced = chunk.count - Int(stream.avail_out)
            output.append(contentsOf: chunk[0..<produced])
            // A full output chunk may leave more output inside zlib even when the input is used up.
            outputPending = stream.avail_out == 0 && status == Z_OK
            switch status {
            case Z_OK: break
            case Z_STREAM_END: ended = true
            case Z_BUF_ERROR where produced == 0 && offset == before: return  // needs more input
            case Z_BUF_ERROR: break
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                throw BackfillError("the gzip data is corrupt: \(reason)")
            }
        }
    }

    /// Checks that the input ended at the end of a gzip member (not truncated).
    func finish() throws(BackfillError) {
        guard ended else { throw BackfillError("the gzip data ends early (truncated file?)") }
    }
}
