/// What `serve` was asked to run, from flags and the environment.
struct ServeSettings: Sendable {
    var host: String
    var port: Int
    var roles: Set<ServeRole>
    var readDatabaseURL: String?
    var positionTimeout: Duration
    var shutdownGrace: Duration
    var idleTimeout: Duration
    var readTimeout: Duration
    var migrate: Bool
}
