import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not arrived in full within `timeout` of its head. The idle
/// timeout alone cannot do this: every body byte counts as activity, so a client dripping one byte a
/// second (and Hummingbird's drain of an unread body after an early answer) would hold the connection
/// forever. Answers `408` with `Connection: close` when no response has started yet, then fails the
/// request's body stream with ``RequestReadTimeout`` (so the route's read ends as a 408, counted and
/// logged as such, not as a failure of the service) and drops what the route still writes.
final class RequestReadDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var responding = false
    /// The deadline passed: the connection is closing and the answer, if any, was this handler's.
    private var expired = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            responding = false
            deadline?.cancel()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.expire(context: context)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !expired else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if case .head = unwrapOutboundIn(data) { responding = true }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    private func expire(context: ChannelHandlerContext) {
        deadline = nil
        guard context.channel.isActive else { return }
        // First, while the connection is still open: the route's body read ends with this error
        // rather than with the end of the stream (a client gone, 499), and what the route answers
        // later is dropped (the 408 below, written past this handler, is the one answer).
        expired = true
        context.fireErrorCaught(RequestReadTimeout())
        if !responding {
            let body = (try? Problem.requestTimeout.json()) ?? Data()
            let head = HTTPResponse(
                status: .requestTimeout,
                headerFields: [
                    .contentType: "application/problem+json", .contentLength: "\(body.count)", .connection: "close",
                ])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }
}

/// The request's body did not arrive in full within the read timeout (``RequestReadDeadlineHandler``).
struct RequestReadTimeout: Error {}
