import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 channel with ``HTTP1ConnectionHandler`` inserted before the conversion to
/// HTTP types. Hummingbird's `additionalChannelHandlers` all come after that conversion, where the
/// request's HTTP version is gone and a `100 Continue` can no longer be written.
struct HTTP1ServerChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    /// The largest body a route reads; a larger declared `Content-Length` gets no `100 Continue`.
    let maximumBodyBytes: Int

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let maximumBodyBytes = maximumBodyBytes
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(HTTP1ConnectionHandler(maximumBodyBytes: maximumBodyBytes), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 served through ``HTTP1ServerChannel``.
    static func http1(configuration: HTTP1Channel.Configuration, maximumBodyBytes: Int) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HTTP1ServerChannel(base: HTTP1Channel(responder: responder, configuration: configuration), maximumBodyBytes: maximumBodyBytes)
        }
    }
}
