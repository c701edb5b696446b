import Logging
import Postgres
import ServiceLifecycle

/// The projection service of `serve`: one ``ProjectionRunner`` per projection, each with its own
/// connection. Stops between batches on graceful shutdown.
public struct Projector: Service {
    let runners: [ProjectionRunner]

    /// Creates runners for `projections`.
    public init(
        configuration: PostgresConfiguration, projections: [Projection] = Projection.all, options: ProjectionOptions = ProjectionOptions(),
        logger: Logger
    ) {
        runners = projections.map { ProjectionRunner(projection: $0, configuration: configuration, options: options, logger: logger) }
    }

    /// Runs every runner until shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for runner in runners { group.addTask { await runner.run() } }
            }
        }
    }
}
