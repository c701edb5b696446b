import Logging

extension PostgresConnection {
    /// Connects, runs `body` with the connection and closes it, whether `body` returns or throws:
    /// the one way to use a connection of one's own outside a pool.
    public static func withConnection<T>(
        _ configuration: PostgresConfiguration, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(configuration, logger: logger)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }
}

extension PostgresPool {
    /// Creates a pool, runs `body` with it and closes it, whether `body` returns or throws (for
    /// commands and tests; a long-running service runs the pool as a `Service` instead).
    public static func withPool<T>(
        _ configuration: PostgresConfiguration, options: Options = Options(), logger: Logger,
        _ body: (PostgresPool) async throws -> T
    ) async throws -> T {
        let pool = PostgresPool(configuration: configuration, options: options, logger: logger)
        do {
            let value = try await body(pool)
            await pool.close()
            return value
        } catch {
            await pool.close()
            throw error
        }
    }
}
