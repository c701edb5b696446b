import NIOCore
import NIOHTTP1

/// The parts of HTTP/1 that only the raw request head shows (its version and `Expect`), handled
/// between NIO's HTTP/1 codec and the conversion to HTTP types, where Hummingbird no longer sees
/// them:
///
/// - **Persistence.** A request that does not keep the connection alive (HTTP/1.0 without
///   `Connection: keep-alive`, any `Connection: close` however spelled) reaches Hummingbird with
///   exactly `Connection: close`, the one spelling on which it ends the connection after the
///   response; the response says `Connection: close` too and carries the request's version, so an
///   HTTP/1.0 client that reads to the end of the stream gets it (and never a chunked body).
/// - **`Expect: 100-continue`.** Answered `100 Continue` at once, so senders (curl, HTTP
///   libraries) do not wait out their expect timeout before every delivery. A request whose
///   declared `Content-Length` is over `maximumBodyBytes` gets no `100`: it is answered `413`
///   without its body and its connection closed, since the client may or may not send the body
///   it announced.
final class HTTP1ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the answer to one request must do, in request order (HTTP/1 pipelining).
    private struct Exchange {
        var version: HTTPVersion
        var closes: Bool
        /// A `100 Continue` is owed but an earlier response is still being written.
        var continueOwed: Bool
    }

    private let maximumBodyBytes: Int
    private var exchanges: [Exchange] = []
    /// Whether the head of the oldest exchange's final response has been written.
    private var responding = false

    init(maximumBodyBytes: Int) {
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let expectsContinue = head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
        let declared = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
        // RFC 9110 §10.1.1: no 100 to an HTTP/1.0 client; none when the body will not be read.
        let owesContinue = expectsContinue && head.version.major == 1 && head.version.minor >= 1 && declared <= maximumBodyBytes
        let closes = !head.isKeepAlive || (expectsContinue && !owesContinue)
        if closes {
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        exchanges.append(Exchange(version: head.version, closes: closes, continueOwed: owesContinue && !exchanges.isEmpty))
        if owesContinue && exchanges.count == 1 {
            sendContinue(context: context, version: head.version)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200 || head.status == .switchingProtocols:
            if let exchange = exchanges.first {
                responding = true
                head.version = exchange.version
                if exchange.closes {
                    head.headers.replaceOrAdd(name: "connection", value: "close")
                } else if exchange.version.minor == 0 {
                    head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
                }
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            context.write(data, promise: promise)
            guard responding, !exchanges.isEmpty else { return }
            responding = false
            exchanges.removeFirst()
            if let next = exchanges.first, next.continueOwed {
                exchanges[0].continueOwed = false
                sendContinue(context: context, version: next.version)
            }
        default:
            context.write(data, promise: promise)
        }
    }

    private func sendContinue(context: ChannelHandlerContext, version: HTTPVersion) {
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
    }
}
